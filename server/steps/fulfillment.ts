// Fulfillment, only after fraud screening passed: capture the authorized payment, then book the
// shipment. Both calls carry per-order idempotency keys: a retried job captures and ships once.
import { randomBytes } from "node:crypto";
import { callDownstream } from "../downstream/simulate";
import type { StepOrder, StepOutcome } from "./types";

export async function fulfill(order: StepOrder, deadline?: AbortSignal): Promise<StepOutcome> {
  await callDownstream({
    service: "payment",
    operation: "capture",
    deadline,
    idempotencyKey: order.id,
    perform: () => ({ orderId: order.id, amountCents: order.totalCents }),
  });
  const shipment = await callDownstream({
    service: "shipping",
    operation: "ship",
    deadline,
    idempotencyKey: order.id,
    perform: () => ({
      orderId: order.id,
      trackingNumber: `1Z${randomBytes(6).toString("hex").toUpperCase()}`,
    }),
  });
  return { detail: `Payment captured, shipped with tracking ${shipment.trackingNumber}` };
}
