// Checkout: who is buying, what, and the Purchase button (its behaviour is usePurchase's). The server
// is the authority on everything (stock, totals, validation); this page shows its words when it refuses.
"use client";

import Link from "next/link";
import type { FormEvent } from "react";
import { formatPrice } from "../_lib/format";
import { MODES } from "../_lib/mode";
import { useCartLines } from "../_lib/useCartLines";
import { usePurchase } from "../_lib/usePurchase";
import { CheckoutProgress } from "./CheckoutProgress";
import styles from "./CheckoutView.module.css";
import { EmptyCart } from "./EmptyCart";
import { ProblemNotice } from "./ProblemNotice";
import summary from "./Summary.module.css";
import { TextField } from "./TextField";

export function CheckoutView() {
  const { products, lines, totalCents } = useCartLines({ liveStock: false });
  const { mode, field, purchase, busy, placed, watching, problem, rejected } = usePurchase(lines);

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    void purchase();
  };

  if (placed) {
    return (
      <p className="notice" role="status">
        Order placed. Taking you to it…
      </p>
    );
  }
  if (lines.length === 0) return <EmptyCart reason="Add something to your cart before checking out." />;

  return (
    <div className={summary.layout}>
      <div className="checkout-main">
        {watching && <CheckoutProgress {...watching} />}
        <form className="card form" onSubmit={submit} noValidate aria-label="Checkout">
          <h2>Your details</h2>
          {busy && watching?.resumed && (
            <p className={`hint ${styles.detailsSent}`} data-testid="details-sent">
              The details your checkout was sent with. It is still being confirmed: there is no need to press
              Purchase again.
            </p>
          )}
          <TextField {...field("name")} required label="Name" autoComplete="name" />
          <TextField
            {...field("email")}
            required
            label="Email"
            type="email"
            autoComplete="email"
            hint="For the receipt. It is sent by a side-effect step, exactly once."
          />
          <p className={styles.checkoutModeNote}>
            Checkout mode: <strong>{MODES[mode].label}</strong>
            <span className="muted"> (change it in the bar at the top)</span>
          </p>
          {problem && <ProblemNotice problem={problem} mode={mode} rejected={rejected} />}
          <button type="submit" className="button button-primary button-large" disabled={busy}>
            {busy ? "Purchasing…" : `Purchase · ${formatPrice(totalCents)}`}
          </button>
          <p className="hint">Nothing is really charged in this demonstration shop.</p>
        </form>
      </div>
      <aside className={`${summary.summary} card`} aria-label="Order summary">
        <h2>Order summary</h2>
        {products.isPending ? (
          <p className="muted">Loading…</p>
        ) : (
          <ul className={summary.summaryLines}>
            {lines.map((line) => (
              <li key={line.productId}>
                <span>
                  {line.product?.name ?? "Unavailable product"}{" "}
                  <span className="muted">× {line.quantity}</span>
                </span>
                <span>{formatPrice((line.product?.priceCents ?? 0) * line.quantity)}</span>
              </li>
            ))}
          </ul>
        )}
        <dl className={summary.summaryRows}>
          <div>
            <dt>Shipping</dt>
            <dd>Free</dd>
          </div>
          <div className={summary.summaryTotal}>
            <dt>Total</dt>
            <dd>{formatPrice(totalCents)}</dd>
          </div>
        </dl>
        <Link href="/cart" className="link-button">
          Edit cart
        </Link>
      </aside>
    </div>
  );
}
