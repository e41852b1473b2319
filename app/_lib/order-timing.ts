// The numbers that tell sync from async apart, defined once for every page that shows them (the order
// page, its waterfall, the comparison table and chart): how long the shopper waited for an answer, how
// long until everything was done, whether the order is still moving, and the medians per checkout
// mode, which only completed orders count towards. The clocks themselves (answerOf, timeToDone,
// isMoving, …) are the contract's (server/contract/clocks.ts): the load tools follow orders by them too.
import {
  type AttemptOutcome,
  CHECKOUT_MODES,
  type CheckoutMode,
  CRITICAL_STEPS,
  conditionsKey,
  conditionsLabel,
  INLINE_BACKOFF_MS,
  knobChanges,
  MODES,
  msBetween,
  ORDER_STATUSES,
  type OrderStatus,
  type OrderStepView,
  type OrderView,
  QUEUE_BACKOFF_MS,
  type StepAttemptView,
  stepInFlight,
  timeToAnswer,
  timeToDone,
} from "@/server/contract";

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
export function stepTimeline(
  step: OrderStepView,
  createdAt: string,
  now: number,
  /** When the order's undo began (see undoStartedAt): a compensation is drawn from then to when the
   * provider answered, so the time its calls took has a bar. */
  undoFrom: string | null = null,
): StepTimeline {
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

  const undoStart = undoFrom ? at(undoFrom) : null;
  if (step.compensatedAt) {
    const compensated = at(step.compensatedAt);
    push("compensation", Math.min(undoStart ?? compensated, compensated), compensated);
  } else if (step.status === "compensating" && undoStart !== null) {
    // The provider is being asked to undo it (or keeps failing to): the bar grows until it answers.
    push("compensation", undoStart, Math.max(undoStart, nowMs), { live: true });
  }
  return { segments, marks };
}

/** When the order's undo began: the claim that released the stock (and made the payment's void or
 * refund owed) stamps the inventory step then; the providers are asked right after. */
export function undoStartedAt(order: OrderView): string | null {
  const inventory = order.steps.find((step) => step.name === "inventory");
  return inventory?.status === "compensated" ? inventory.compensatedAt : null;
}

/** When a retrying step's next attempt is due, on the order's clock: its last failure plus the backoff
 * the mode's retry policy sets after that many failures (server/contract/jobs.ts). */
export function nextAttemptMs(order: OrderView, step: OrderStepView): number | null {
  if (step.status !== "retrying") return null;
  const last = step.attemptHistory.at(-1);
  if (!last?.finishedAt) return null;
  const base = MODES[order.mode].waitsForSideEffects ? INLINE_BACKOFF_MS : QUEUE_BACKOFF_MS;
  return msBetween(order.createdAt, last.finishedAt) + base * 2 ** (Math.max(1, step.attempts) - 1);
}

/** Axis ticks, possibly with a break: when one quiet stretch (nothing starts or ends in it) takes most
 * of the span — a step parked for minutes until an operator's Retry — it is squeezed into a narrow gap
 * so the busy part keeps its width; the tail's length is said in words instead. */
export interface TimeScale {
  spanMs: number;
  /** Where `ms` sits along the track, 0–100. */
  percent: (ms: number) => number;
  ticks: number[];
  /** The squeezed stretch, if any. */
  gap: { fromMs: number; toMs: number } | null;
}

/** The share of the track the squeezed stretch keeps. */
const GAP_SHARE = 0.08;
/** A stretch is squeezed only if it is at least this share of the span, and this long. */
const GAP_MIN_SHARE = 0.5;
const GAP_MIN_MS = 5_000;

/** Room left after the last moment, as a share of what is shown. */
const END_ROOM = 0.06;

export function timeScale(events: readonly number[], maxTicks: number): TimeScale {
  const end = Math.max(100, ...events);
  const points = [...new Set([0, ...events.filter((ms) => ms >= 0)])].sort((a, b) => a - b);
  let gap: TimeScale["gap"] = null;
  for (let index = 1; index < points.length; index++) {
    const from = points[index - 1] ?? 0;
    const to = points[index] ?? 0;
    const wide = to - from >= GAP_MIN_MS && to - from >= end * GAP_MIN_SHARE;
    if (wide && (!gap || to - from > gap.toMs - gap.fromMs)) gap = { fromMs: from, toMs: to };
  }
  if (!gap) {
    const spanMs = end * (1 + END_ROOM);
    const ticks = niceTicks(spanMs, maxTicks).filter((tick) => tick <= spanMs);
    return { spanMs, percent: (ms) => clamp((ms / spanMs) * 100, 0, 100), ticks, gap: null };
  }
  // A little room either side of the quiet stretch, so the marks at its ends stay readable.
  const pad = Math.min((gap.toMs - gap.fromMs) * 0.05, (end - (gap.toMs - gap.fromMs)) * 0.03);
  const from = gap.fromMs + pad;
  const to = gap.toMs - pad;
  const shownBusy = end - (to - from);
  const spanMs = end + shownBusy * END_ROOM;
  const shown = spanMs - (to - from);
  const scale = (100 * (1 - GAP_SHARE)) / shown;
  const percent = (ms: number) => {
    const value =
      ms <= from
        ? ms * scale
        : ms >= to
          ? (from + ms - to) * scale + 100 * GAP_SHARE
          : from * scale + ((ms - from) / (to - from)) * 100 * GAP_SHARE;
    return clamp(value, 0, 100);
  };
  const before = niceTicks(from, Math.max(2, Math.round(maxTicks * (from / shown)))).filter(
    (tick) => tick <= from,
  );
  const afterStep = niceTicks(spanMs - to, 2)[1] ?? spanMs - to;
  const after = [Math.ceil(to / afterStep) * afterStep].filter((tick) => tick <= spanMs);
  return { spanMs, percent, ticks: [...before, ...after], gap: { fromMs: from, toMs: to } };
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
