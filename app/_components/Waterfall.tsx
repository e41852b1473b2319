// The order's steps on one clock that starts when the order reached the server: a row per step, critical
// path first, side effects after, and a line where the shopper got an answer. Everything left of that line
// is what the request waited for; everything right of it finished later, while the shopper was free.
// Each row draws every moment that teaches: the wait in the queue, each attempt's run, the backoff
// between attempts, time parked in the dead-letter set until a person's Retry, and the compensation that
// undid the step, at the time it happened. A table below says the same in words.
"use client";

import {
  answerOf,
  COMPENSATION_STEPS,
  CRITICAL_STEPS,
  isMoving,
  MODES,
  type OrderStepView,
  type OrderView,
  PLANNED_SIDE_EFFECTS,
  STEPS,
  type StepName,
  stepInFlight,
  timeToDone,
} from "@/server/contract";
import { formatDuration, formatTick } from "../_lib/format";
import { isRolledBack, stepStatusLabel } from "../_lib/labels";
import {
  nextAttemptMs,
  type Segment,
  type SegmentKind,
  type StepTimeline,
  stepTimeline,
  timeScale,
  undoStartedAt,
} from "../_lib/order-timing";
import type { RelatedToOrder } from "../_lib/trpc";
import { OtherModeLine } from "./OtherModeLine";
import styles from "./Waterfall.module.css";

interface Marker {
  atMs: number;
  label: string;
}

const MAX_TICKS = 6;

/** The legend, and the words the table uses for each kind of stretch. */
const LEGEND: { key: string; label: string }[] = [
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

function answerMarker(order: OrderView): Marker | null {
  const answer = answerOf(order);
  if (!answer) return null;
  return {
    atMs: answer.ms,
    label: answer.outcome === "confirmed" ? "shopper got an answer" : "shopper got an error",
  };
}

function placeholder(step: OrderStepView, order: OrderView): string {
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
function correctionNote(order: OrderView): string {
  const cause = order.steps.some((step) => step.name === "fraud" && step.status === "rejected")
    ? "fraud screening rejected the order"
    : "the checkout failed";
  const emailed = order.steps.some((step) => step.name === "cancellationEmail");
  return emailed
    ? `The receipt went out before ${cause}; the cancellation email corrects it, and the sale is taken back out of the numbers.`
    : `The sale was recorded before ${cause}; the reversal takes it back out of the numbers.`;
}

/** How a running stretch ended, as its colour and its words. */
function runTone(segment: Segment): string {
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

function segmentWords(segment: Segment): string {
  return segment.kind === "running" ? runWords(segment) : SEGMENT_WORDS[segment.kind];
}

/** How long the step ran: its attempts' runs added up (waits are in the bars and the table). */
function numbers(view: OrderStepView, timeline: StepTimeline): string {
  const runs = timeline.segments.filter((segment) => segment.kind === "running");
  if (runs.length === 0) return "–";
  const ran = runs.reduce((sum, segment) => sum + segment.endMs - segment.startMs, 0);
  return `${formatDuration(ran)}${stepInFlight(view) ? "…" : ""}`;
}

function attemptsWords(view: OrderStepView): string {
  if (view.attempts === 0) return "not tried";
  return `${view.attempts} ${view.attempts === 1 ? "attempt" : "attempts"}`;
}

/** The quiet stretch the axis skips, in words: which step waited there, and how. */
function gapWords(gap: { fromMs: number; toMs: number }, timelines: Map<StepName, StepTimeline>): string {
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

export function Waterfall({
  order,
  now,
  related,
}: {
  order: OrderView;
  now: number;
  related?: RelatedToOrder | undefined;
}) {
  const origin = Date.parse(order.createdAt);
  const marker = answerMarker(order);
  const undoFrom = undoStartedAt(order);
  const timelines = new Map<StepName, StepTimeline>(
    order.steps.map((step) => [step.name, stepTimeline(step, order.createdAt, now, undoFrom)]),
  );
  const nextAttempts = new Map(
    order.steps.flatMap((step) => {
      const due = nextAttemptMs(order, step);
      return due === null ? [] : [[step.name, due] as const];
    }),
  );
  const events = [...timelines.values()].flatMap((timeline) => [
    ...timeline.segments.flatMap((segment) => [segment.startMs, segment.endMs]),
    ...timeline.marks.map((mark) => mark.atMs),
  ]);
  events.push(...nextAttempts.values());
  const done = timeToDone(order);
  if (done !== null) events.push(done);
  if (isMoving(order)) events.push(now - origin);
  if (marker) events.push(marker.atMs);
  const scale = timeScale(events, MAX_TICKS);
  const { ticks, gap } = scale;
  const percent = (ms: number) => `${scale.percent(ms)}%`;
  const width = (fromMs: number, toMs: number) => `${scale.percent(toMs) - scale.percent(fromMs)}%`;
  const stepsNamed = (names: readonly StepName[]) =>
    names.flatMap((name) => order.steps.filter((candidate) => candidate.name === name));
  // Only an order undone after its receipt or sale went out has these.
  const compensations = stepsNamed(COMPENSATION_STEPS);

  const row = (view: OrderStepView) => {
    const definition = STEPS[view.name];
    const labelId = `step-${view.name}-label`;
    const timeline = timelines.get(view.name) ?? { segments: [], marks: [] };
    const first = timeline.segments[0];
    const due = nextAttempts.get(view.name);
    const note = [
      view.error ?? view.detail,
      isRolledBack(order, view) ? "Rolled back: the order was undone" : null,
      due !== undefined
        ? `Next attempt due at ${formatTick(Math.round(due))} (in ${formatDuration(Math.max(0, due - (now - origin)))})`
        : null,
    ]
      .filter(Boolean)
      .join(" · ");
    return (
      <li
        key={view.name}
        className={styles.row}
        aria-labelledby={labelId}
        data-step={view.name}
        data-status={view.status}
      >
        <div className={styles.label}>
          <span id={labelId} className={styles.name}>
            {definition.label}
          </span>
          <span className={styles.explains}>{definition.explains}</span>
        </div>
        <div className={styles.track}>
          {ticks.map((tick) => (
            <span key={tick} className={styles.gridline} style={{ left: percent(tick) }} aria-hidden="true" />
          ))}
          {marker && (
            <span className={styles.markerLine} style={{ left: percent(marker.atMs) }} aria-hidden="true" />
          )}
          {gap && (
            <span
              className={styles.gap}
              style={{ left: percent(gap.fromMs), width: width(gap.fromMs, gap.toMs) }}
              aria-hidden="true"
            />
          )}
          <div className={styles.lane} aria-hidden="true">
            {timeline.segments.length > 0 ? (
              timeline.segments.map((segment) => (
                <span
                  key={`${segment.kind}-${segment.startMs}-${segment.attempt ?? ""}`}
                  className={styles.segment}
                  data-segment={segment.kind}
                  data-tone={segment.kind === "running" ? runTone(segment) : undefined}
                  data-live={segment.live || undefined}
                  title={`${segmentWords(segment)}: ${formatDuration(segment.endMs - segment.startMs)}`}
                  data-span={
                    segment.kind === "compensation" && segment.endMs > segment.startMs ? true : undefined
                  }
                  style={{
                    left: percent(segment.startMs),
                    // A compensation without a duration (the stock released in the undo's own
                    // statement) is a moment: a dot of its own size.
                    width:
                      segment.kind === "compensation" && segment.endMs === segment.startMs
                        ? undefined
                        : width(segment.startMs, segment.endMs),
                  }}
                />
              ))
            ) : (
              <span className={styles.placeholder}>{placeholder(view, order)}</span>
            )}
            {due !== undefined && (
              <span className={styles.mark} data-mark="next-attempt" style={{ left: percent(due) }} />
            )}
            {timeline.marks.map((mark) => (
              <span
                key={`${mark.kind}-${mark.atMs}`}
                className={styles.mark}
                data-mark={mark.kind}
                style={{ left: percent(mark.atMs) }}
              />
            ))}
          </div>
          {note && (
            <span
              className={styles.note}
              data-kind={view.error ? "error" : "detail"}
              style={first ? { marginLeft: `min(${percent(first.startMs)}, 45%)` } : undefined}
            >
              {note}
              {view.compensatedAt && ` at ${formatTick(Math.round(Date.parse(view.compensatedAt) - origin))}`}
            </span>
          )}
        </div>
        <div className={styles.meta}>
          <span className={styles.chip} data-status={isRolledBack(order, view) ? "compensated" : view.status}>
            {stepStatusLabel(order, view)}
          </span>
          <span className={styles.numbers}>
            <span className="tabular">{numbers(view, timeline)}</span>
            {" · "}
            <span className="muted">{attemptsWords(view)}</span>
          </span>
        </div>
      </li>
    );
  };

  return (
    <section className={`card ${styles.waterfall}`} aria-labelledby="waterfall-title">
      <h2 id="waterfall-title">What the request waited for</h2>
      <p className="hint">
        One clock for every step, starting when your order reached the server. Left of the dashed line is what
        you waited for; right of it happened after you had your answer (eventual consistency).
      </p>
      <ul className={styles.legend} aria-label="Legend">
        {LEGEND.map(({ key, label }) => (
          <li key={key}>
            <span className={styles.swatch} data-swatch={key} aria-hidden="true" />
            {label}
          </li>
        ))}
      </ul>
      <div className={styles.chart}>
        <div className={`${styles.row} ${styles.axisRow}`} aria-hidden="true">
          <span />
          <div className={styles.axis}>
            {ticks.map((tick) => (
              <span key={tick} className={styles.tick} style={{ left: percent(tick) }}>
                {formatTick(tick)}
              </span>
            ))}
            {gap && (
              <span
                className={styles.gapLabel}
                style={{ left: percent((gap.fromMs + gap.toMs) / 2) }}
                data-testid="axis-break"
              >
                ≈
              </span>
            )}
            {marker && (
              <span
                className={styles.markerLabel}
                style={{ left: percent(marker.atMs) }}
                data-align={scale.percent(marker.atMs) > 60 ? "end" : "start"}
              >
                {marker.label}
              </span>
            )}
          </div>
          <span />
        </div>
        <h3 className={styles.group}>
          Critical path <span className="muted">· the request always waits for these</span>
        </h3>
        <ol className={styles.list} aria-label="Critical path steps">
          {stepsNamed(CRITICAL_STEPS).map(row)}
        </ol>
        <h3 className={styles.group}>
          Side effects{" "}
          <span className="muted">
            ·{" "}
            {!MODES[order.mode].waitsForSideEffects
              ? "queued, finished after the answer"
              : "awaited by the request in this mode"}
          </span>
        </h3>
        <ol className={styles.list} aria-label="Side effect steps">
          {stepsNamed(PLANNED_SIDE_EFFECTS).map(row)}
        </ol>
        {compensations.length > 0 && (
          <>
            <h3 className={styles.group}>
              Compensation <span className="muted">· {correctionNote(order)}</span>
            </h3>
            <ol className={styles.list} aria-label="Compensation steps">
              {compensations.map(row)}
            </ol>
          </>
        )}
      </div>
      {gap && (
        <p className={styles.gapNote} data-testid="waterfall-break">
          {gapWords(gap, timelines)}
        </p>
      )}
      <OtherModeLine order={order} related={related} />
      <details className={styles.details}>
        <summary>The same timeline as a table</summary>
        <table className={styles.table}>
          <caption className="visually-hidden">
            Every stretch of every step, in milliseconds since the order reached the server
          </caption>
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">What</th>
              <th scope="col">From</th>
              <th scope="col">Took</th>
            </tr>
          </thead>
          <tbody>
            {order.steps.flatMap((view) => {
              const timeline = timelines.get(view.name);
              if (!timeline) return [];
              const lines = [
                ...timeline.segments.map((segment) => ({
                  key: `${segment.kind}-${segment.startMs}-${segment.attempt ?? ""}`,
                  at: segment.startMs,
                  what: segmentWords(segment),
                  took:
                    segment.kind === "compensation" && segment.endMs === segment.startMs
                      ? "–"
                      : formatDuration(segment.endMs - segment.startMs),
                  rank: 1,
                })),
                ...timeline.marks.map((mark) => ({
                  key: `${mark.kind}-${mark.atMs}`,
                  at: mark.atMs,
                  what:
                    mark.kind === "operator-retry" ? "Retried by an operator" : "Discarded by an operator",
                  took: "–",
                  // A mark comes before what it starts: the Retry, then the wait in the queue.
                  rank: 0,
                })),
              ].sort((a, b) => a.at - b.at || a.rank - b.rank);
              return lines.map((line, index) => (
                <tr key={`${view.name}-${line.key}`}>
                  {index === 0 ? (
                    <th scope="row" rowSpan={lines.length}>
                      {STEPS[view.name].label}
                    </th>
                  ) : null}
                  <td>{line.what}</td>
                  <td className="tabular">{formatDuration(line.at)}</td>
                  <td className="tabular">{line.took}</td>
                </tr>
              ));
            })}
          </tbody>
        </table>
      </details>
    </section>
  );
}
