// One step's row of the waterfall: its name and what it does, its lane on the order's clock (every
// stretch and mark of its timeline, or why it has not run yet), a note (its error or detail, a rollback,
// when the next attempt is due), and its status with how long it ran over how many attempts.
"use client";

import { type OrderStepView, type OrderView, STEPS } from "@/server/contract";
import { formatDuration, formatTick } from "../_lib/format";
import { isRolledBack, stepStatusLabel } from "../_lib/labels";
import type { StepTimeline } from "../_lib/step-timeline";
import type { TimeScale } from "../_lib/time-axis";
import {
  attemptsWords,
  type Marker,
  placeholder,
  ranFor,
  runTone,
  segmentWords,
} from "../_lib/waterfall-words";
import styles from "./Waterfall.module.css";

export function WaterfallRow({
  order,
  view,
  timeline,
  due,
  now,
  scale,
  marker,
}: {
  order: OrderView;
  view: OrderStepView;
  timeline: StepTimeline;
  /** When its next attempt is due, on the order's clock (a retrying step only). */
  due: number | undefined;
  now: number;
  scale: TimeScale;
  marker: Marker | null;
}) {
  const origin = Date.parse(order.createdAt);
  const { ticks, gap } = scale;
  const percent = (ms: number) => `${scale.percent(ms)}%`;
  const width = (fromMs: number, toMs: number) => `${scale.percent(toMs) - scale.percent(fromMs)}%`;
  const definition = STEPS[view.name];
  const labelId = `step-${view.name}-label`;
  const first = timeline.segments[0];
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
    <li className={styles.row} aria-labelledby={labelId} data-step={view.name} data-status={view.status}>
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
          <span className="tabular">{ranFor(view, timeline)}</span>
          {" · "}
          <span className="muted">{attemptsWords(view)}</span>
        </span>
      </div>
    </li>
  );
}
