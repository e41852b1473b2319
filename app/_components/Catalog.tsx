// The catalog grid. Stock is live: refetched every few seconds and whenever the tab regains focus,
// so "Only 3 left" tells the truth while other shoppers buy.
"use client";

import { useQuery } from "@tanstack/react-query";
import { useCart } from "../_lib/cart";
import { describeProblem, useTRPC } from "../_lib/trpc";
import styles from "./Catalog.module.css";
import { ProductCard } from "./ProductCard";

const STOCK_REFRESH_MS = 10_000;

export function Catalog() {
  const trpc = useTRPC();
  const products = useQuery(
    trpc.product.list.queryOptions(undefined, {
      refetchInterval: STOCK_REFRESH_MS,
      refetchOnWindowFocus: true,
    }),
  );
  const cart = useCart();

  if (products.isPending) {
    return (
      <div className={styles.productGrid} aria-busy="true" role="status" aria-label="Loading products">
        {Array.from({ length: 8 }, (_, index) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: placeholders have no identity
          <div key={index} className={`card ${styles.skeleton}`} />
        ))}
      </div>
    );
  }
  if (products.isError) {
    return (
      <div className="notice notice-error" role="alert">
        <p>The catalog could not be loaded. {describeProblem(products.error).message}</p>
        <button type="button" className="button" onClick={() => products.refetch()}>
          Try again
        </button>
      </div>
    );
  }
  return (
    <ul className={styles.productGrid} aria-label="Products">
      {products.data.map((product) => (
        <li key={product.id}>
          <ProductCard
            product={product}
            inCart={cart.find((line) => line.productId === product.id)?.quantity ?? 0}
          />
        </li>
      ))}
    </ul>
  );
}
