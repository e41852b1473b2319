// The checkout mode in the header; it fills `mode` in order.place. Until the shopper picks one, it is
// the developer console's default (or async when the console is off).
"use client";

import { useQuery } from "@tanstack/react-query";
import { type CheckoutMode, checkoutModeSchema } from "@/server/contract";
import { storedValue } from "./stored";
import { useTRPC } from "./trpc";

const choice = storedValue<CheckoutMode | null>(
  "slow-morning:checkout-mode",
  checkoutModeSchema.nullable(),
  null,
);

export function useCheckoutMode(): CheckoutMode {
  const chosen = choice.use();
  const trpc = useTRPC();
  const settings = useQuery({
    ...trpc.dev.settings.queryOptions(),
    enabled: chosen === null,
    retry: false,
    staleTime: 5_000,
  });
  return chosen ?? settings.data?.defaultMode ?? "async";
}

export const setCheckoutMode = choice.set;

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
