// Analytics: nobody should wait for it, yet it is still recorded (once per order).
import { callDownstream } from "../downstream/simulate";
import type { StepOrder, StepOutcome } from "./types";

export async function recordSale(order: StepOrder): Promise<StepOutcome> {
  const units = order.items.reduce((sum, item) => sum + item.quantity, 0);
  await callDownstream({
    service: "analytics",
    operation: "track",
    idempotencyKey: `${order.id}:order_placed`,
    perform: () => ({ event: "order_placed", orderId: order.id, revenueCents: order.totalCents, units }),
  });
  return { detail: `Sale recorded: ${units} unit${units === 1 ? "" : "s"}` };
}
