// One product in the catalog grid: picture, words, price, live stock and the Add to cart button.
"use client";

import { addToCart, maxQuantity } from "../_lib/cart";
import { formatPrice } from "../_lib/format";
import type { Product } from "../_lib/trpc";
import { ProductArt } from "./ProductArt";
import styles from "./ProductCard.module.css";
import { StockLabel } from "./StockLabel";

export function ProductCard({ product, inCart }: { product: Product; inCart: number }) {
  const headingId = `product-${product.id}`;
  const soldOut = product.stock <= 0;
  const atLimit = !soldOut && inCart >= maxQuantity(product.stock);
  return (
    <article className={`card ${styles.productCard}`} aria-labelledby={headingId}>
      <ProductArt className={styles.productArt} hue={product.artHue} motif={product.artMotif} />
      <div className={styles.productBody}>
        <h2 id={headingId} className={styles.productName}>
          {product.name}
        </h2>
        <p className={styles.productDescription}>{product.description}</p>
        <div className={styles.productMeta}>
          <span className={styles.price}>{formatPrice(product.priceCents)}</span>
          <StockLabel stock={product.stock} />
        </div>
        <div className={styles.productActions}>
          <button
            type="button"
            className="button button-primary"
            disabled={soldOut || atLimit}
            onClick={() => addToCart(product.id, product.stock)}
          >
            {soldOut ? "Sold out" : "Add to cart"}
          </button>
          {inCart > 0 && (
            <span className={styles.inCart} role="status">
              {inCart} in your cart{atLimit ? " (the most you can order)" : ""}
            </span>
          )}
        </div>
      </div>
    </article>
  );
}
