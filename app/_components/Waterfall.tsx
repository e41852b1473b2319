// The order's steps on one clock that starts when the order reached the server: a row per step, critical
// path first, side effects after, and a line where the shopper got an answer. Everything left of that line
// is what the request waited for; everything right of it finished later, while the shopper was free.
// Each row draws every moment that teaches: the wait in the queue, each attempt's run, the backoff
// between attempts, time parked in the dead-letter set until a person's Retry, and the compensation that
// undid the step, at the time it happened (WaterfallRow.tsx). A table below says the same in words
// (WaterfallTable.tsx); the words themselves are app/_lib/waterfall-words.ts's.
"use client";

import {
  COMPENSATION_STEPS,
  CRITICAL_STEPS,
  isMoving,
  MODES,
  type OrderStepView,
  type OrderView,
  PLANNED_SIDE_EFFECTS,
  type StepName,
  timeToDone,
} from "@/server/contract";
import { formatTick } from "../_lib/format";
import { nextAttemptMs, type StepTimeline, stepTimeline, undoStartedAt } from "../_lib/step-timeline";
import { timeScale } from "../_lib/time-axis";
import type { RelatedToOrder } from "../_lib/trpc";
import { answerMarker, correctionNote, gapWords, LEGEND } from "../_lib/waterfall-words";
import { OtherModeLine } from "./OtherModeLine";
import styles from "./Waterfall.module.css";
import { WaterfallRow } from "./WaterfallRow";
import { WaterfallTable } from "./WaterfallTable";

const MAX_TICKS = 6;

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
  const stepsNamed = (names: readonly StepName[]) =>
    names.flatMap((name) => order.steps.filter((candidate) => candidate.name === name));
  // Only an order undone after its receipt or sale went out has these.
  const compensations = stepsNamed(COMPENSATION_STEPS);

  const row = (view: OrderStepView) => (
    <WaterfallRow
      key={view.name}
      order={order}
      view={view}
      timeline={timelines.get(view.name) ?? { segments: [], marks: [] }}
      due={nextAttempts.get(view.name)}
      now={now}
      scale={scale}
      marker={marker}
    />
  );

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
      <WaterfallTable order={order} timelines={timelines} />
    </section>
  );
}
