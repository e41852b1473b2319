// The cart: change quantities (1 up to 20, never above what is on the shelf), remove lines, see an
// estimated total. The server computes the real total when the order is placed.
"use client";

import Link from "next/link";
import { MAX_QUANTITY } from "@/server/contract";
import { removeFromCart, setQuantity } from "../_lib/cart";
import { formatPrice } from "../_lib/format";
import { type JoinedLine, useCartLines } from "../_lib/useCartLines";
import styles from "./CartView.module.css";
import { EmptyCart } from "./EmptyCart";
import { ProductArt } from "./ProductArt";
import { StockLabel } from "./StockLabel";
import summary from "./Summary.module.css";

export function CartView() {
  const { products, lines, totalCents } = useCartLines({ liveStock: true });

  if (lines.length === 0) return <EmptyCart reason="Find something nice for the morning first." />;
  if (products.isPending) return <p className="muted">Loading your cart…</p>;

  const blocked = lines.filter((line) => line.quantity > line.available);
  return (
    <div className={summary.layout}>
      <ul className={`${styles.cartLines} card`} aria-label="Cart items">
        {lines.map((line) => (
          <CartLineRow key={line.productId} line={line} />
        ))}
      </ul>
      <aside className={`${summary.summary} card`} aria-label="Cart summary">
        <h2>Summary</h2>
        <dl className={summary.summaryRows}>
          <div>
            <dt>Items</dt>
            <dd>{lines.reduce((sum, line) => sum + line.quantity, 0)}</dd>
          </div>
          <div>
            <dt>Shipping</dt>
            <dd>Free</dd>
          </div>
          <div className={summary.summaryTotal}>
            <dt>Estimated total</dt>
            <dd>{formatPrice(totalCents)}</dd>
          </div>
        </dl>
        <p className="hint">The final total is computed by the shop when you place the order.</p>
        {blocked.length > 0 ? (
          <>
            <p className="field-error" role="alert">
              Lower the quantity of{" "}
              {blocked.map((line) => line.product?.name ?? "an unavailable item").join(", ")} to what is in
              stock (or remove it) to continue.
            </p>
            <button type="button" className="button button-primary button-block" disabled>
              Checkout
            </button>
          </>
        ) : (
          <Link href="/checkout" className="button button-primary button-block">
            Checkout
          </Link>
        )}
      </aside>
    </div>
  );
}

function CartLineRow({ line }: { line: JoinedLine }) {
  const { product } = line;
  if (!product) {
    return (
      <li className={styles.cartLine}>
        <div className={`${styles.cartThumb} ${styles.cartThumbEmpty}`} />
        <div className={styles.cartLineMain}>
          <p className={styles.cartLineName}>This product is no longer available</p>
        </div>
        <button type="button" className="link-button" onClick={() => removeFromCart(line.productId)}>
          Remove
        </button>
      </li>
    );
  }
  const selectId = `quantity-${product.id}`;
  const choices = Math.max(line.available, line.quantity, 1);
  return (
    <li className={styles.cartLine} aria-label={product.name}>
      <ProductArt className={styles.cartThumb} hue={product.artHue} motif={product.artMotif} />
      <div className={styles.cartLineMain}>
        <p className={styles.cartLineName}>{product.name}</p>
        <p className="muted small">
          {formatPrice(product.priceCents)} each · <StockLabel stock={product.stock} />
        </p>
        {line.quantity > line.available && (
          <p className="field-error">
            {line.available === 0 ? "Sold out: remove it to continue." : `Only ${line.available} available.`}
          </p>
        )}
      </div>
      <div className="cart-line-quantity">
        <label htmlFor={selectId} className="visually-hidden">
          Quantity of {product.name}
        </label>
        <select
          id={selectId}
          value={line.quantity}
          onChange={(event) => setQuantity(product.id, Number(event.target.value))}
        >
          {Array.from({ length: Math.min(choices, MAX_QUANTITY) }, (_, index) => index + 1).map(
            (quantity) => (
              <option key={quantity} value={quantity} disabled={quantity > line.available}>
                {quantity}
              </option>
            ),
          )}
        </select>
      </div>
      <p className={styles.cartLineTotal}>{formatPrice(product.priceCents * line.quantity)}</p>
      <button
        type="button"
        className="link-button"
        aria-label={`Remove ${product.name}`}
        onClick={() => removeFromCart(product.id)}
      >
        Remove
      </button>
    </li>
  );
}
