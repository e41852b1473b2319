// The checkout mode the shopper picked in the header; it fills `mode` in order.place.
"use client";

import { type CheckoutMode, checkoutModeSchema } from "@/server/contract";
import { storedValue } from "./stored";

const mode = storedValue<CheckoutMode>("slow-morning:checkout-mode", checkoutModeSchema, "async");

export const useCheckoutMode = mode.use;
export const setCheckoutMode = mode.set;

export const MODE_LABELS: Record<CheckoutMode, string> = {
  async: "Async",
  sync: "Sync",
  "sync-parallel": "Sync-parallel",
};

export const MODE_EXPLANATIONS: Record<CheckoutMode, string> = {
  async:
    "the request waits only for stock and payment; fraud screening, email, analytics and fulfillment finish later, live.",
  sync: "the request waits for every side effect, one after another: their latencies stack up behind the spinner.",
  "sync-parallel":
    "the request fans out to every side effect at once and waits for the slowest one: less stacking, same coupling.",
};
