// The checkout modes' names, apart from what each means (MODES, in orders.ts), so that the knobs
// (services.ts) can name a default mode and an order its conditions without an import cycle.
import { z } from "zod";

export const CHECKOUT_MODES = ["async", "sync", "sync-parallel"] as const;
export const checkoutModeSchema = z.enum(CHECKOUT_MODES);
export type CheckoutMode = z.infer<typeof checkoutModeSchema>;
