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

export { MODES } from "@/server/contract";
