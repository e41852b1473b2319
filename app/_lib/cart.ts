// The shopper's cart: product ids and quantities in localStorage, so it survives reloads. Names,
// prices and stock always come from the live catalog; the server computes the real total.
"use client";

import { z } from "zod";
import { MAX_QUANTITY } from "@/server/contract";
import { storedValue } from "./stored";

const cartSchema = z.array(z.object({ productId: z.string(), quantity: z.number().int().min(1) }));
export type CartLine = z.infer<typeof cartSchema>[number];

const cart = storedValue<CartLine[]>("slow-morning:cart", cartSchema, []);

export const useCart = cart.use;

/** The most of one product a shopper may order: the shop limit, and never more than is on the shelf. */
export function maxQuantity(stock: number): number {
  return Math.max(0, Math.min(MAX_QUANTITY, stock));
}

export function addToCart(productId: string, stock: number): void {
  cart.set((lines) => {
    const line = lines.find((candidate) => candidate.productId === productId);
    if (!line) return maxQuantity(stock) > 0 ? [...lines, { productId, quantity: 1 }] : lines;
    const quantity = Math.min(line.quantity + 1, maxQuantity(stock));
    return lines.map((candidate) => (candidate === line ? { ...line, quantity } : candidate));
  });
}

export function setQuantity(productId: string, quantity: number): void {
  const clamped = Math.max(1, Math.min(MAX_QUANTITY, Math.round(quantity)));
  cart.set((lines) =>
    lines.map((line) => (line.productId === productId ? { ...line, quantity: clamped } : line)),
  );
}

export function removeFromCart(productId: string): void {
  cart.set((lines) => lines.filter((line) => line.productId !== productId));
}

export function clearCart(): void {
  cart.set([]);
}

export function countItems(lines: CartLine[]): number {
  return lines.reduce((sum, line) => sum + line.quantity, 0);
}
