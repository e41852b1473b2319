// One step's moments on the order's clock, for the waterfall: per attempt the wait in the queue (or the
// backoff before it, or the time parked in the dead-letter set until a person's Retry) and the run, where
// the step rests now, and the compensation that undid it; and when a retrying step's next attempt is due.
import {
  type AttemptOutcome,
  INLINE_BACKOFF_MS,
  MODES,
  msBetween,
  type OrderStepView,
  type OrderView,
  QUEUE_BACKOFF_MS,
  type StepAttemptView,
  stepInFlight,
} from "@/server/contract";
import { clamp } from "./time-axis";

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

/** The time one kind of stretch took, summed over a step's timeline. */
export function totalOf(timeline: StepTimeline, kind: SegmentKind): number {
  return timeline.segments
    .filter((segment) => segment.kind === kind)
    .reduce((sum, segment) => sum + (segment.endMs - segment.startMs), 0);
}
