// Analytics: nobody should wait for it, yet it is still recorded (once per order), and taken back
// (once) when the order is undone after it was recorded.
import { callDownstream, orderCall } from "../downstream/simulate";
import type { StepOrder, StepOutcome } from "./types";

const unitsOf = (order: StepOrder) => order.items.reduce((sum, item) => sum + item.quantity, 0);
const plural = (units: number) => `${units} unit${units === 1 ? "" : "s"}`;

export const sale = (orderId: string) => orderCall("analytics", "track", orderId, "order_placed");
export const saleReversed = (orderId: string) => orderCall("analytics", "track", orderId, "order_reversed");

export async function recordSale(order: StepOrder, deadline?: AbortSignal): Promise<StepOutcome> {
  const units = unitsOf(order);
  await callDownstream({
    ...sale(order.id),
    deadline,
    perform: () => ({ event: "order_placed", orderId: order.id, revenueCents: order.totalCents, units }),
  });
  return { detail: `Sale recorded: ${plural(units)}` };
}

/** The recorded sale, negated: the numbers add up to what was really sold. */
export async function reverseSale(order: StepOrder): Promise<StepOutcome> {
  const units = unitsOf(order);
  await callDownstream({
    ...saleReversed(order.id),
    perform: () => ({
      event: "order_reversed",
      orderId: order.id,
      revenueCents: -order.totalCents,
      units: -units,
    }),
  });
  return { detail: `Sale reversed: ${plural(units)}` };
}
