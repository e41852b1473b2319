// The numbers that tell sync from async apart, defined once for every page that shows them (the order
// page, its waterfall, the comparison table and chart): how long the shopper waited for an answer, how
// long until everything was done, whether the order is still moving, and the medians per checkout
// mode, which only completed orders count towards.
import {
  type AttemptOutcome,
  CHECKOUT_MODES,
  type CheckoutMode,
  CRITICAL_STEPS,
  FIRST_SIDE_EFFECTS,
  MODES,
  ORDER_STATUSES,
  type OrderStatus,
  type OrderStepView,
  type OrderSummary,
  type OrderView,
  PLANNED_SIDE_EFFECTS,
  type SideEffectStep,
  STEPS,
  type StepAttemptView,
  stepsAfter,
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
export function summarizeModes(orders: readonly OrderSummary[]): ModeSummary[] {
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

// ---------- One step's moments, for the waterfall ----------

/** What a stretch of a step's row shows: waiting in the queue for a consumer, running (one per
 * attempt), the deliberate backoff between a failed attempt and the next, parked in the dead-letter
 * set until a person acts, and the compensation that undid it. */
export const SEGMENT_KINDS = ["queued", "running", "backoff", "dead-letter", "compensation"] as const;
export type SegmentKind = (typeof SEGMENT_KINDS)[number];

export interface Segment {
  kind: SegmentKind;
  /** On the order's clock (ms since it reached the server). */
  startMs: number;
  endMs: number;
  /** For a running segment: how its attempt ended (null: running still, or cut short). */
  outcome: AttemptOutcome | null;
  /** For a running segment: the attempt's number among those kept (1 = the first kept). */
  attempt: number | null;
  /** It grows with the clock: the step is still in this stretch now. */
  live: boolean;
}

export interface StepMark {
  kind: "operator-retry" | "discarded";
  atMs: number;
}

export interface StepTimeline {
  segments: Segment[];
  marks: StepMark[];
}

/** A running stretch with no recorded outcome, ended by the next attempt: its worker died mid-run. */
const CUT_SHORT: AttemptOutcome | null = null;

/** The outcome a step's single run (critical steps, and rows stored before attempts had a history) had. */
function outcomeOfStatus(step: OrderStepView): AttemptOutcome | null {
  switch (step.status) {
    case "succeeded":
    case "compensating":
    case "compensated":
      return "succeeded";
    case "rejected":
      return "rejected";
    case "failed":
      return step.deadLetteredAt ? "dead-lettered" : "failed";
    case "retrying":
      return "failed";
    default:
      return null;
  }
}

/** Every stretch of one step on the order's clock: per attempt, the wait in the queue (or the backoff
 * before it, or the time parked in the dead-letter set) and the run, then where the step rests now,
 * and the compensation. Pure: `now` is the clock's current reading (epoch ms). */
export function stepTimeline(step: OrderStepView, createdAt: string, now: number): StepTimeline {
  const origin = Date.parse(createdAt);
  const at = (iso: string) => Date.parse(iso) - origin;
  const nowMs = now - origin;
  const segments: Segment[] = [];
  const marks: StepMark[] = [];
  const push = (kind: SegmentKind, startMs: number, endMs: number, extra: Partial<Segment> = {}) => {
    if (endMs < startMs) return;
    // A zero-length wait says nothing; a zero-length run is still a run.
    if (endMs === startMs && kind !== "running" && kind !== "compensation") return;
    segments.push({ kind, startMs, endMs, outcome: null, attempt: null, live: false, ...extra });
  };
  const retriedAt = step.retriedByOperatorAt ? at(step.retriedByOperatorAt) : null;
  const discardedAt = step.discardedAt ? at(step.discardedAt) : null;
  const inFlight = stepInFlight(step);

  const history: StepAttemptView[] =
    step.attemptHistory.length > 0 || !step.startedAt
      ? step.attemptHistory
      : [
          {
            queuedAt: null,
            backoffMs: null,
            startedAt: step.startedAt,
            finishedAt: step.status === "running" ? null : step.finishedAt,
            outcome: outcomeOfStatus(step),
            error: step.error,
          },
        ];

  history.forEach((attempt, index) => {
    const start = at(attempt.startedAt);
    const previous = history[index - 1];
    const next = history[index + 1];
    if (!previous) {
      if (attempt.queuedAt) push("queued", Math.min(at(attempt.queuedAt), start), start);
    } else if (previous.finishedAt) {
      const gapStart = Math.min(at(previous.finishedAt), start);
      if (previous.outcome === "dead-lettered") {
        // Parked until a person replayed it, then queued until a consumer took it.
        const retried = retriedAt !== null && retriedAt >= gapStart && retriedAt <= start ? retriedAt : null;
        const parkedEnd =
          retried ?? (attempt.queuedAt ? clamp(at(attempt.queuedAt), gapStart, start) : start);
        push("dead-letter", gapStart, parkedEnd);
        if (retried !== null) marks.push({ kind: "operator-retry", atMs: retried });
        push("queued", parkedEnd, start);
      } else {
        const due = attempt.queuedAt
          ? at(attempt.queuedAt)
          : attempt.backoffMs !== null
            ? gapStart + attempt.backoffMs
            : start;
        const dueMs = clamp(due, gapStart, start);
        push("backoff", gapStart, dueMs);
        push("queued", dueMs, start);
      }
    }
    const isLast = !next;
    const end = attempt.finishedAt
      ? at(attempt.finishedAt)
      : isLast
        ? inFlight
          ? Math.max(nowMs, start)
          : start
        : at(next.startedAt);
    push("running", start, Math.max(start, end), {
      outcome: attempt.finishedAt ? attempt.outcome : CUT_SHORT,
      attempt: index + 1,
      live: isLast && !attempt.finishedAt && inFlight,
    });
  });

  const last = history.at(-1);
  if (last?.finishedAt) {
    const restsFrom = at(last.finishedAt);
    if (last.outcome === "dead-lettered" || (step.status === "failed" && step.deadLetteredAt)) {
      // In the dead-letter set: until a person retried (then queued again) or discarded it, or now.
      if (retriedAt !== null && retriedAt >= restsFrom) {
        push("dead-letter", restsFrom, retriedAt);
        marks.push({ kind: "operator-retry", atMs: retriedAt });
        if (step.status === "failed") push("queued", retriedAt, Math.max(retriedAt, nowMs), { live: true });
      } else if (discardedAt !== null && discardedAt >= restsFrom) {
        push("dead-letter", restsFrom, discardedAt);
        marks.push({ kind: "discarded", atMs: discardedAt });
      } else if (step.status === "failed") {
        push("dead-letter", restsFrom, Math.max(restsFrom, nowMs), { live: true });
      }
    } else if (step.status === "retrying") {
      push("backoff", restsFrom, Math.max(restsFrom, nowMs), { live: true });
    }
  }

  if (step.compensatedAt) {
    const compensated = at(step.compensatedAt);
    push("compensation", compensated, compensated);
  }
  return { segments, marks };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

/** The time one kind of stretch took, summed over a step's timeline. */
export function totalOf(timeline: StepTimeline, kind: SegmentKind): number {
  return timeline.segments
    .filter((segment) => segment.kind === kind)
    .reduce((sum, segment) => sum + (segment.endMs - segment.startMs), 0);
}

// ---------- The counterfactual: the same order in the other mode ----------

/** How long the side effect's successful (or deciding) run took: what a synchronous checkout would
 * have waited for it. Retries and queue waits are left out: sync retries differently, and has no queue. */
export function decidingRunMs(step: OrderStepView): number | null {
  const decided = [...step.attemptHistory]
    .reverse()
    .find(
      (attempt) => attempt.finishedAt && (attempt.outcome === "succeeded" || attempt.outcome === "rejected"),
    );
  if (decided?.finishedAt) return Date.parse(decided.finishedAt) - Date.parse(decided.startedAt);
  if (step.attemptHistory.length === 0 && step.startedAt && step.finishedAt) {
    if (step.status === "succeeded" || step.status === "rejected") {
      return Date.parse(step.finishedAt) - Date.parse(step.startedAt);
    }
  }
  return null;
}

/** When the critical path was done (stock, payment, the confirmed order): what every mode waits for. */
export function criticalPathMs(order: OrderView): number | null {
  const ends = order.steps
    .filter((step) => CRITICAL_STEPS.includes(step.name) && step.finishedAt)
    .map((step) => msBetween(order.createdAt, step.finishedAt ?? order.createdAt));
  return ends.length === CRITICAL_STEPS.length ? Math.max(...ends) : null;
}

/** How long the shopper would have waited for this order's answer in `mode`, from the runs this order
 * had: the critical path, plus (if the mode waits for side effects) their runs one after another, or
 * the longest chain of them when run side by side (MODES). Null until the critical path is done. */
export function answerInMode(order: OrderView, mode: CheckoutMode): number | null {
  const critical = criticalPathMs(order);
  if (critical === null) return null;
  const { waitsForSideEffects, parallel } = MODES[mode];
  if (!waitsForSideEffects) return critical;
  const run = (name: SideEffectStep) => {
    const step = order.steps.find((candidate) => candidate.name === name);
    return step ? (decidingRunMs(step) ?? 0) : 0;
  };
  if (!parallel) return critical + PLANNED_SIDE_EFFECTS.reduce((sum, name) => sum + run(name), 0);
  const chain = (name: SideEffectStep): number =>
    run(name) + Math.max(0, ...stepsAfter(name).map((next) => chain(next)));
  return critical + Math.max(0, ...FIRST_SIDE_EFFECTS.map(chain));
}

export interface Counterfactual {
  /** The mode the order did not use: sync for a queued order, async for one that waited. */
  mode: CheckoutMode;
  ms: number;
}

/** The other side of the argument for one order, once it has stopped moving and a side effect ran: an
 * async order would have waited that long in sync; a sync one would have had its answer that soon. */
export function counterfactual(order: OrderView): Counterfactual | null {
  if (isMoving(order)) return null;
  const waited = MODES[order.mode].waitsForSideEffects;
  const mode = CHECKOUT_MODES.find((candidate) =>
    waited
      ? !MODES[candidate].waitsForSideEffects
      : MODES[candidate].waitsForSideEffects && !MODES[candidate].parallel,
  );
  if (!mode) return null;
  const ranAny = PLANNED_SIDE_EFFECTS.some((name) => {
    const step = order.steps.find((candidate) => candidate.name === name);
    return step ? decidingRunMs(step) !== null : false;
  });
  const ms = answerInMode(order, mode);
  return ranAny && ms !== null ? { mode, ms } : null;
}
