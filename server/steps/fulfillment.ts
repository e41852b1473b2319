// Fulfillment, only after fraud screening passed: capture the authorized payment, then book the
// shipment. Both calls carry per-order idempotency keys: a retried job captures and ships once.
import { randomBytes } from "node:crypto";
import { callDownstream, orderCall } from "../downstream/simulate";
import type { StepOrder, StepOutcome } from "./types";

/** The first call of a fulfillment: once it is recorded, the payment has been captured. */
export const capture = (orderId: string) => orderCall("payment", "capture", orderId);

/** The last call of a fulfillment: once it is recorded, the order has shipped. */
export const shipment = (orderId: string) => orderCall("shipping", "ship", orderId);

export async function fulfill(order: StepOrder, deadline?: AbortSignal): Promise<StepOutcome> {
  await callDownstream({
    ...capture(order.id),
    deadline,
    perform: () => ({ orderId: order.id, amountCents: order.totalCents }),
  });
  const booked = await callDownstream({
    ...shipment(order.id),
    deadline,
    perform: () => ({
      orderId: order.id,
      trackingNumber: `1Z${randomBytes(6).toString("hex").toUpperCase()}`,
    }),
  });
  return { detail: `Payment captured, shipped with tracking ${booked.trackingNumber}` };
}
