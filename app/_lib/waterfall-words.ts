// The waterfall's words: its legend, what each stretch of a row is called (the bars' titles and the
// table say the same), what a step with no bar yet is waiting for, the answer line's label, the
// compensation group's note, and the quiet stretch the axis skips. Pure: the drawing is Waterfall.tsx's.
import {
  answerOf,
  MODES,
  type OrderStepView,
  type OrderView,
  STEPS,
  type StepName,
  stepInFlight,
} from "@/server/contract";
import { formatDuration, formatTick } from "./format";
import type { Segment, SegmentKind, StepTimeline } from "./step-timeline";

/** The dashed line where the shopper got an answer, on the order's clock. */
export interface Marker {
  atMs: number;
  label: string;
}

/** The legend, and the words the table uses for each kind of stretch. */
export const LEGEND: { key: string; label: string }[] = [
  { key: "queued", label: "Queued" },
  { key: "running", label: "Running" },
  { key: "succeeded", label: "Done" },
  { key: "failed", label: "Attempt failed" },
  { key: "backoff", label: "Backoff" },
  { key: "dead-letter", label: "Dead-letter set" },
  { key: "operator-retry", label: "Operator's Retry" },
  { key: "compensation", label: "Compensation (undo)" },
  { key: "next-attempt", label: "Next attempt due" },
];

const SEGMENT_WORDS: Record<SegmentKind, string> = {
  queued: "Waiting in the queue",
  running: "Ran",
  backoff: "Backoff",
  "dead-letter": "Parked in the dead-letter set",
  compensation: "Compensated",
};

/** The answer line: when the shopper heard back, and whether it was the order or an error. */
export function answerMarker(order: OrderView): Marker | null {
  const answer = answerOf(order);
  if (!answer) return null;
  return {
    atMs: answer.ms,
    label: answer.outcome === "confirmed" ? "shopper got an answer" : "shopper got an error",
  };
}

/** What a step without a bar yet shows in its lane: why it has not run. */
export function placeholder(step: OrderStepView, order: OrderView): string {
  if (step.status === "skipped") return "Skipped";
  if (step.status !== "pending") return "";
  const compensation = STEPS[step.name].phase === "compensation";
  if (!compensation && (order.status === "failed" || order.status === "cancelled")) return "Not run";
  const after = STEPS[step.name].after;
  const waitingOn = after ? order.steps.find((candidate) => candidate.name === after) : undefined;
  if (after && waitingOn?.status !== "succeeded") return `Starts after ${STEPS[after].label.toLowerCase()}`;
  if (STEPS[step.name].phase === "critical") return "Waiting";
  return !MODES[order.mode].waitsForSideEffects ? "Queued" : "Waiting its turn";
}

/** One line for the compensation group: why an undone order sends a correction (eventual consistency
 * made visible: for a while the shopper held a receipt for an order that no longer stands). */
export function correctionNote(order: OrderView): string {
  const cause = order.steps.some((step) => step.name === "fraud" && step.status === "rejected")
    ? "fraud screening rejected the order"
    : "the checkout failed";
  const emailed = order.steps.some((step) => step.name === "cancellationEmail");
  return emailed
    ? `The receipt went out before ${cause}; the cancellation email corrects it, and the sale is taken back out of the numbers.`
    : `The sale was recorded before ${cause}; the reversal takes it back out of the numbers.`;
}

/** How a running stretch ended, as its colour and its words. */
export function runTone(segment: Segment): string {
  if (segment.live) return "running";
  if (segment.outcome === "succeeded") return "succeeded";
  if (segment.outcome === null) return "cut-short";
  return "failed";
}

function runWords(segment: Segment): string {
  if (segment.live) return "Running";
  switch (segment.outcome) {
    case "succeeded":
      return `Attempt ${segment.attempt}: ran, done`;
    case "rejected":
      return `Attempt ${segment.attempt}: ran, rejected the order`;
    case "failed":
      return `Attempt ${segment.attempt}: ran, failed`;
    case "dead-lettered":
      return `Attempt ${segment.attempt}: ran, failed (the last try)`;
    default:
      return `Attempt ${segment.attempt}: cut short`;
  }
}

export function segmentWords(segment: Segment): string {
  return segment.kind === "running" ? runWords(segment) : SEGMENT_WORDS[segment.kind];
}

/** How long the step ran: its attempts' runs added up (waits are in the bars and the table). */
export function ranFor(view: OrderStepView, timeline: StepTimeline): string {
  const runs = timeline.segments.filter((segment) => segment.kind === "running");
  if (runs.length === 0) return "–";
  const ran = runs.reduce((sum, segment) => sum + segment.endMs - segment.startMs, 0);
  return `${formatDuration(ran)}${stepInFlight(view) ? "…" : ""}`;
}

export function attemptsWords(view: OrderStepView): string {
  if (view.attempts === 0) return "not tried";
  return `${view.attempts} ${view.attempts === 1 ? "attempt" : "attempts"}`;
}

/** The quiet stretch the axis skips, in words: which step waited there, and how. */
export function gapWords(
  gap: { fromMs: number; toMs: number },
  timelines: Map<StepName, StepTimeline>,
): string {
  const WAITS: Partial<Record<SegmentKind, string>> = {
    "dead-letter": "waited in the dead-letter set for a person",
    backoff: "waited out its backoff",
    queued: "waited in its queue",
    running: "was still running",
    compensation: "waited for its undo",
  };
  const covering = [...timelines.entries()].flatMap(([name, timeline]) =>
    timeline.segments
      .filter((segment) => segment.startMs <= gap.fromMs && segment.endMs >= gap.toMs && WAITS[segment.kind])
      .map((segment) => `${STEPS[name].label.toLowerCase()} ${WAITS[segment.kind]}`),
  );
  const what = covering.length > 0 ? `: ${[...new Set(covering)].join("; ")}` : "";
  return `The axis skips ${formatDuration(gap.toMs - gap.fromMs)} of quiet time, from ${formatTick(
    Math.round(gap.fromMs),
  )} to ${formatTick(Math.round(gap.toMs))}${what}.`;
}
