// The numbers that tell sync from async apart, defined once for every page that shows them (the order
// page, its waterfall, the comparison table and chart): how long the shopper waited for an answer, how
// long until everything was done, whether the order is still moving, and the medians per checkout
// mode, which only completed orders count towards.
import {
  CHECKOUT_MODES,
  type CheckoutMode,
  ORDER_STATUSES,
  type OrderStatus,
  type OrderStepView,
  type OrderView,
  STEPS,
} from "@/server/contract";
import { msBetween } from "./format";

/** The two clocks, named once. "Answer", not "confirmation": the critical path has a step called
 * "Confirm order", which in a sync checkout finishes long before the shopper hears anything. */
export const TIMINGS = {
  answer: {
    label: "Time to answer",
    short: "Shopper waited",
    explains: "How long the Purchase request kept the shopper waiting for an answer.",
  },
  done: {
    label: "Time to done",
    short: "All done after",
    explains: "Until the last step had finished and the shopper had the answer.",
  },
} as const;

export interface Answer {
  ms: number;
  /** confirmed: the order stands. refused: the checkout failed and the shopper was told so. */
  outcome: "confirmed" | "refused";
}

/** When the Purchase request answered, on the order's own clock (null: it has not answered yet). A
 * failed checkout answers with an error once it has been compensated, which is when it settled. */
export function answerOf(order: OrderView): Answer | null {
  if (order.confirmedAt) return { ms: msBetween(order.createdAt, order.confirmedAt), outcome: "confirmed" };
  if (order.status === "failed" && order.settledAt) {
    return { ms: msBetween(order.createdAt, order.settledAt), outcome: "refused" };
  }
  return null;
}

/** How long the shopper waited for a confirmed order (null: not confirmed, or not yet). */
export function timeToAnswer(order: OrderView): number | null {
  const answer = answerOf(order);
  return answer?.outcome === "confirmed" ? answer.ms : null;
}

/** How long until nothing was left to do: the last step finished *and* the shopper had the answer
 * (null: not there yet). A sync checkout settles with its last step and answers a moment later, after
 * recording the answer or voiding the payment, so done is whichever came last: never before the answer. */
export function timeToDone(order: OrderView): number | null {
  if (!order.settledAt) return null;
  const settled = msBetween(order.createdAt, order.settledAt);
  return Math.max(settled, answerOf(order)?.ms ?? settled);
}

/** A step still at work: its bar grows until "now". */
export function stepInFlight(step: OrderStepView): boolean {
  return step.status === "running" || step.status === "retrying";
}

const FINAL_STATUSES: readonly OrderStatus[] = ["completed", "cancelled", "failed"];

/** The one answer to "is this order still moving?", for every ticking clock and growing bar: a step
 * is at work, or the order has not settled and is not parked. An order that needs attention is
 * parked: its failed step waits in the dead-letter set for a person, and nothing moves until then.
 * An undone order still moves while a compensation waits for its turn. */
export function isMoving(order: OrderView): boolean {
  if (order.steps.some(stepInFlight)) return true;
  if (order.settledAt !== null) return false;
  if (FINAL_STATUSES.includes(order.status)) {
    return order.steps.some((step) => STEPS[step.name].phase === "compensation" && step.status === "pending");
  }
  return order.status !== "needs_attention";
}

/** How long the order has been under way at `now`: the clock shown while it is not done yet. */
export function timeSoFar(order: OrderView, now: number): number {
  return Math.max(0, msBetween(order.createdAt, now));
}

/** Parked in the dead-letter set: not done, and not moving until someone retries the step. */
export function isParked(order: OrderView): boolean {
  return order.status === "needs_attention" && !isMoving(order);
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? 0;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? upper) + upper) / 2;
}

/** The medians only count completed orders: a failed or cancelled checkout stops early, and an order
 * still under way has no "done" yet. Mixing them in would make a mode look faster than it is. */
export const MEDIAN_STATUS: OrderStatus = "completed";

export interface ModeSummary {
  mode: CheckoutMode;
  /** Orders of this mode, of any status. */
  total: number;
  /** The completed ones: both medians are taken over exactly these. */
  completed: number;
  /** The rest, by status, in the contract's order: shown beside the medians, never in them. */
  leftOut: { status: OrderStatus; count: number }[];
  answer: number | null;
  done: number | null;
}

/** One summary per checkout mode that has orders, in the contract's order of modes. */
export function summarizeModes(orders: readonly OrderView[]): ModeSummary[] {
  return CHECKOUT_MODES.flatMap((mode) => {
    const ofMode = orders.filter((order) => order.mode === mode);
    if (ofMode.length === 0) return [];
    const completed = ofMode.filter((order) => order.status === MEDIAN_STATUS);
    const leftOut = ORDER_STATUSES.filter((status) => status !== MEDIAN_STATUS).flatMap((status) => {
      const count = ofMode.filter((order) => order.status === status).length;
      return count > 0 ? [{ status, count }] : [];
    });
    return [
      {
        mode,
        total: ofMode.length,
        completed: completed.length,
        leftOut,
        answer: median(completed.flatMap((order) => timeToAnswer(order) ?? [])),
        done: median(completed.flatMap((order) => timeToDone(order) ?? [])),
      },
    ];
  });
}

const TICK_STEPS_MS = [
  10, 20, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 15_000, 30_000, 60_000,
];

/** Round axis ticks from 0 to at least `spanMs`, at most `maxTicks` intervals. */
export function niceTicks(spanMs: number, maxTicks = 6): number[] {
  const step =
    TICK_STEPS_MS.find((candidate) => spanMs / candidate <= maxTicks) ??
    Math.ceil(spanMs / maxTicks / 60_000) * 60_000;
  const count = Math.max(1, Math.ceil(spanMs / step));
  return Array.from({ length: count + 1 }, (_, index) => index * step);
}
