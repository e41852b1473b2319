// The numbers that tell sync from async apart, defined once for every page that shows them (the order
// page, the comparison table and chart): how long the shopper waited for an answer, how long until
// everything was done, and the medians per checkout mode, which only completed orders count towards.
// The clocks themselves (answerOf, timeToDone, isMoving, …) are the contract's (server/contract/clocks.ts):
// the load tools follow orders by them too. One step's stretches, for the waterfall, are step-timeline.ts's;
// the axis they are drawn on is time-axis.ts's.
import {
  CHECKOUT_MODES,
  type CheckoutMode,
  CRITICAL_STEPS,
  conditionsKey,
  conditionsLabel,
  knobChanges,
  msBetween,
  ORDER_STATUSES,
  type OrderStatus,
  type OrderView,
  timeToAnswer,
  timeToDone,
} from "@/server/contract";
import { stepTimeline } from "./step-timeline";

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

/** The smallest and the largest of a set of timings: the spread shown beside a median. */
export interface Spread {
  min: number;
  max: number;
}

function spreadOf(values: readonly number[]): Spread | null {
  return values.length === 0 ? null : { min: Math.min(...values), max: Math.max(...values) };
}

export interface ModeSummary {
  mode: CheckoutMode;
  /** Orders of this mode, of any status. */
  total: number;
  /** The completed ones: both medians are taken over exactly these. */
  completed: number;
  /** The rest, by status, in the contract's order: shown beside the medians, never in them. */
  leftOut: { status: OrderStatus; count: number }[];
  answer: number | null;
  answerSpread: Spread | null;
  /** Machine time: time to done less the time a step waited in the dead-letter set for a person. */
  done: number | null;
  doneSpread: Spread | null;
  /** The operators' share, per completed order that had one: kept apart from the machine's time. */
  operatorWaits: number[];
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
    const answers = completed.flatMap((order) => timeToAnswer(order) ?? []);
    const done = completed.flatMap((order) => machineTimeToDone(order) ?? []);
    return [
      {
        mode,
        total: ofMode.length,
        completed: completed.length,
        leftOut,
        answer: median(answers),
        answerSpread: spreadOf(answers),
        done: median(done),
        doneSpread: spreadOf(done),
        operatorWaits: completed.map((order) => operatorWaitMs(order)).filter((ms) => ms > 0),
      },
    ];
  });
}

/** How long the order waited for a person: its steps' time parked in the dead-letter set (until an
 * operator's Retry or Discard, or until `now` while still parked), overlaps counted once. */
export function operatorWaitMs(order: OrderView, now: number = Date.now()): number {
  const parked = order.steps
    .flatMap((step) => stepTimeline(step, order.createdAt, now).segments)
    .filter((segment) => segment.kind === "dead-letter")
    .sort((a, b) => a.startMs - b.startMs);
  let total = 0;
  let reached = Number.NEGATIVE_INFINITY;
  for (const { startMs, endMs } of parked) {
    const from = Math.max(startMs, reached);
    if (endMs > from) total += endMs - from;
    reached = Math.max(reached, endMs);
  }
  return total;
}

/** Time to done without the time a person took to act on a dead letter: what the machines took. */
export function machineTimeToDone(order: OrderView): number | null {
  const done = timeToDone(order);
  return done === null ? null : done - operatorWaitMs(order);
}

// ---------- The critical path, which every mode waits for (see counterfactual.ts) ----------

/** When the critical path was done (stock, payment, the confirmed order): what every mode waits for. */
export function criticalPathMs(order: OrderView): number | null {
  const ends = order.steps
    .filter((step) => CRITICAL_STEPS.includes(step.name) && step.finishedAt)
    .map((step) => msBetween(order.createdAt, step.finishedAt ?? order.createdAt));
  return ends.length === CRITICAL_STEPS.length ? Math.max(...ends) : null;
}

// ---------- Orders grouped by the conditions they ran under ----------

export interface ConditionsGroup {
  /** conditionsKey of its orders, or UNRECORDED. */
  key: string;
  label: string;
  /** The knobs that differ from the Realistic preset, in words (empty: Realistic's own). */
  changes: string[];
  orders: OrderView[];
}

export const UNRECORDED = "unrecorded";

/** The orders by the knobs they ran under, the group of the newest order first: medians are only
 * ever taken within one group, so an outage's orders never mix with a healthy shop's. */
export function groupByConditions(orders: readonly OrderView[]): ConditionsGroup[] {
  const groups = new Map<string, ConditionsGroup>();
  for (const order of orders) {
    const key = order.conditions ? conditionsKey(order.conditions) : UNRECORDED;
    const group = groups.get(key) ?? {
      key,
      label: order.conditions ? conditionsLabel(order.conditions) : "Conditions not recorded",
      changes: order.conditions ? knobChanges(order.conditions.services) : [],
      orders: [],
    };
    group.orders.push(order);
    groups.set(key, group);
  }
  return [...groups.values()];
}
