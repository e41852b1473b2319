// The order's two clocks and whether it still moves, on the order's own timestamps: how long the shopper
// waited for an answer, how long until everything was done. Defined once here (browser-safe) for the
// pages that show them (app/_lib/order-timing.ts) and for the load tools that follow orders to done.
import type { OrderStatus, OrderStepView, OrderSummary } from "./orders";
import { STEPS } from "./steps";

export function msBetween(from: string, to: string | number): number {
  const end = typeof to === "number" ? to : Date.parse(to);
  return end - Date.parse(from);
}

export interface Answer {
  ms: number;
  /** confirmed: the order stands. refused: the checkout failed and the shopper was told so. */
  outcome: "confirmed" | "refused";
}

/** When the Purchase request answered, on the order's own clock (null: it has not answered yet). A
 * failed checkout answers with an error once it has been compensated, which is when it settled. */
export function answerOf(order: OrderSummary): Answer | null {
  if (order.confirmedAt) return { ms: msBetween(order.createdAt, order.confirmedAt), outcome: "confirmed" };
  if (order.status === "failed" && order.settledAt) {
    return { ms: msBetween(order.createdAt, order.settledAt), outcome: "refused" };
  }
  return null;
}

/** How long the shopper waited for a confirmed order (null: not confirmed, or not yet). */
export function timeToAnswer(order: OrderSummary): number | null {
  const answer = answerOf(order);
  return answer?.outcome === "confirmed" ? answer.ms : null;
}

/** How long until nothing was left to do: the last step finished *and* the shopper had the answer
 * (null: not there yet). A sync checkout settles with its last step and answers a moment later, after
 * recording the answer or voiding the payment, so done is whichever came last: never before the answer. */
export function timeToDone(order: OrderSummary): number | null {
  if (!order.settledAt) return null;
  const settled = msBetween(order.createdAt, order.settledAt);
  return Math.max(settled, answerOf(order)?.ms ?? settled);
}

/** A step still at work: its bar grows until "now". */
export function stepInFlight(step: Pick<OrderStepView, "status">): boolean {
  return step.status === "running" || step.status === "retrying";
}

const FINAL_STATUSES: readonly OrderStatus[] = ["completed", "cancelled", "failed"];

/** The one answer to "is this order still moving?", for every ticking clock and growing bar: a step
 * is at work, or the order has not settled and is not parked. An order that needs attention is
 * parked: its failed step waits in the dead-letter set for a person, and nothing moves until then.
 * An undone order still moves while a compensation waits for its turn. */
export function isMoving(order: OrderSummary): boolean {
  if (order.steps.some(stepInFlight)) return true;
  if (order.settledAt !== null) return false;
  if (FINAL_STATUSES.includes(order.status)) {
    return order.steps.some((step) => STEPS[step.name].phase === "compensation" && step.status === "pending");
  }
  return order.status !== "needs_attention";
}

/** How long the order has been under way at `now`: the clock shown while it is not done yet. */
export function timeSoFar(order: OrderSummary, now: number): number {
  return Math.max(0, msBetween(order.createdAt, now));
}

/** Parked in the dead-letter set: not done, and not moving until someone retries the step. */
export function isParked(order: OrderSummary): boolean {
  return order.status === "needs_attention" && !isMoving(order);
}
