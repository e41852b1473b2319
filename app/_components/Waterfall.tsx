// The order's steps on one clock that starts when the order reached the server: a bar per step, critical path
// first, side effects after, and a line where the shopper got an answer. Everything left of that line
// is what the request waited for; everything right of it finished later, while the shopper was free.
"use client";

import {
  COMPENSATION_STEPS,
  CRITICAL_STEPS,
  MODES,
  type OrderStepView,
  type OrderView,
  PLANNED_SIDE_EFFECTS,
  STEPS,
  type StepName,
} from "@/server/contract";
import { formatDuration, formatTick } from "../_lib/format";
import { STEP_STATUS_LABELS } from "../_lib/labels";
import { answerOf, isMoving, niceTicks, stepInFlight, timeToDone } from "../_lib/order-timing";

function stepEnd(step: OrderStepView, now: number): number | null {
  if (!step.startedAt) return null;
  if (stepInFlight(step)) return Math.max(now, Date.parse(step.startedAt));
  return step.finishedAt ? Date.parse(step.finishedAt) : null;
}

interface Marker {
  atMs: number;
  label: string;
}

const MAX_TICKS = 6;

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

export function Waterfall({ order, now }: { order: OrderView; now: number }) {
  const origin = Date.parse(order.createdAt);
  const marker = answerMarker(order);
  const ends = order.steps.map((step) => (stepEnd(step, now) ?? origin) - origin);
  const done = timeToDone(order);
  if (done !== null) ends.push(done);
  if (isMoving(order)) ends.push(now - origin);
  const spanMs = Math.max(100, ...ends, marker?.atMs ?? 0) * 1.06;
  const ticks = niceTicks(spanMs, MAX_TICKS).filter((tick) => tick <= spanMs);
  const percent = (ms: number) => `${Math.min(100, Math.max(0, (ms / spanMs) * 100))}%`;
  const stepsNamed = (names: readonly StepName[]) =>
    names.flatMap((name) => order.steps.filter((candidate) => candidate.name === name));
  // Only an order undone after its receipt or sale went out has these.
  const compensations = stepsNamed(COMPENSATION_STEPS);

  const row = (view: OrderStepView) => {
    const definition = STEPS[view.name];
    const labelId = `step-${view.name}-label`;
    const end = stepEnd(view, now);
    const start = view.startedAt ? Date.parse(view.startedAt) - origin : null;
    const duration = start !== null && end !== null ? end - origin - start : null;
    const note = view.error ?? view.detail;
    return (
      <li
        key={view.name}
        className="wf-row"
        aria-labelledby={labelId}
        data-step={view.name}
        data-status={view.status}
      >
        <div className="wf-label">
          <span id={labelId} className="wf-name">
            {definition.label}
          </span>
          <span className="wf-explains">{definition.explains}</span>
        </div>
        <div className="wf-track">
          {ticks.map((tick) => (
            <span key={tick} className="wf-gridline" style={{ left: percent(tick) }} aria-hidden="true" />
          ))}
          {marker && (
            <span className="wf-marker-line" style={{ left: percent(marker.atMs) }} aria-hidden="true" />
          )}
          <div className="wf-lane">
            {start !== null && duration !== null ? (
              <span
                className="wf-bar"
                data-status={view.status}
                style={{ left: percent(start), width: `max(3px, ${percent(duration)})` }}
              />
            ) : (
              <span className="wf-placeholder">{placeholder(view, order)}</span>
            )}
          </div>
          {note && (
            <span
              className="wf-note"
              data-kind={view.error ? "error" : "detail"}
              style={start !== null ? { marginLeft: `min(${percent(start)}, 45%)` } : undefined}
            >
              {note}
            </span>
          )}
        </div>
        <div className="wf-meta">
          <span className="step-chip" data-status={view.status}>
            {STEP_STATUS_LABELS[view.status]}
          </span>
          <span className="wf-numbers">
            <span className="tabular">
              {duration === null ? "–" : `${formatDuration(duration)}${stepInFlight(view) ? "…" : ""}`}
            </span>
            {" · "}
            <span className="muted">
              {view.attempts === 0
                ? "not tried"
                : `${view.attempts} ${view.attempts === 1 ? "attempt" : "attempts"}`}
            </span>
          </span>
        </div>
      </li>
    );
  };

  return (
    <section className="card waterfall" aria-labelledby="waterfall-title">
      <div className="waterfall-head">
        <h2 id="waterfall-title">What the request waited for</h2>
        <ul className="legend" aria-label="Legend">
          {(["succeeded", "running", "retrying", "failed", "pending"] as const).map((status) => (
            <li key={status}>
              <span className="legend-swatch" data-status={status} aria-hidden="true" />
              {STEP_STATUS_LABELS[status]}
            </li>
          ))}
        </ul>
      </div>
      <p className="hint">
        One clock for every step, starting when your order reached the server. Left of the dashed line is what
        you waited for; right of it happened after you had your answer (eventual consistency).
      </p>
      <div className="wf">
        <div className="wf-row wf-axis-row" aria-hidden="true">
          <span />
          <div className="wf-axis">
            {ticks.map((tick) => (
              <span key={tick} className="wf-tick" style={{ left: percent(tick) }}>
                {formatTick(tick)}
              </span>
            ))}
            {marker && (
              <span
                className="wf-marker-label"
                style={{ left: percent(marker.atMs) }}
                data-align={marker.atMs / spanMs > 0.6 ? "end" : "start"}
              >
                {marker.label}
              </span>
            )}
          </div>
          <span />
        </div>
        <h3 className="wf-group">
          Critical path <span className="muted">· the request always waits for these</span>
        </h3>
        <ol className="wf-list" aria-label="Critical path steps">
          {stepsNamed(CRITICAL_STEPS).map(row)}
        </ol>
        <h3 className="wf-group">
          Side effects{" "}
          <span className="muted">
            ·{" "}
            {!MODES[order.mode].waitsForSideEffects
              ? "queued, finished after the answer"
              : "awaited by the request in this mode"}
          </span>
        </h3>
        <ol className="wf-list" aria-label="Side effect steps">
          {stepsNamed(PLANNED_SIDE_EFFECTS).map(row)}
        </ol>
        {compensations.length > 0 && (
          <>
            <h3 className="wf-group">
              Compensation <span className="muted">· {correctionNote(order)}</span>
            </h3>
            <ol className="wf-list" aria-label="Compensation steps">
              {compensations.map(row)}
            </ol>
          </>
        )}
      </div>
    </section>
  );
}
