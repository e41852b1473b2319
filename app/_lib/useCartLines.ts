// The cart joined with the live catalog: each line's product (name, price, stock), or null when the
// product no longer exists. Shared by the cart and checkout pages.
"use client";

import { useQuery } from "@tanstack/react-query";
import { type CartLine, maxQuantity, useCart } from "./cart";
import { type Product, useTRPC } from "./trpc";

export interface JoinedLine extends CartLine {
  product: Product | null;
  /** The most the shopper can order of it right now (0 when sold out or gone). */
  available: number;
}

export function useCartLines(options: { liveStock: boolean }) {
  const trpc = useTRPC();
  const products = useQuery(
    trpc.product.list.queryOptions(undefined, { refetchInterval: options.liveStock ? 10_000 : false }),
  );
  const cart = useCart();
  const lines: JoinedLine[] = cart.map((line) => {
    const product = products.data?.find((candidate) => candidate.id === line.productId) ?? null;
    return { ...line, product, available: product ? maxQuantity(product.stock) : 0 };
  });
  const totalCents = lines.reduce((sum, line) => sum + (line.product?.priceCents ?? 0) * line.quantity, 0);
  return { products, lines, totalCents };
}
