// The comparison at a glance, drawn in SVG: per order a pair of bars on one clock, time to answer
// (what the shopper waited for) above time to done (until the last step), grouped
// and coloured by checkout mode, each group led by its medians. Sync pairs come out equally long;
// async pairs are a short bar over a long one: eventual consistency.
"use client";

import type { CheckoutMode, OrderView } from "@/server/contract";
import { isParked, timeSoFar, timeToAnswer } from "@/server/contract";
import { formatDuration, formatTick } from "../../_lib/format";
import { MODES } from "../../_lib/mode";
import { type ModeSummary, machineTimeToDone, summarizeModes, TIMINGS } from "../../_lib/order-timing";
import { niceTicks } from "../../_lib/time-axis";
import { useElementWidth } from "../../_lib/useElementWidth";
import styles from "./ComparisonChart.module.css";

const ORDERS_PER_MODE = 6;

/** Where everything goes at a given width (in CSS pixels: the SVG is drawn 1:1). Wide: labels left of
 * the bars, numbers right of them. Compact (a phone): each row's label and numbers on a line above its
 * bars, which then take the whole width. */
interface Layout {
  width: number;
  compact: boolean;
  plotX: number;
  plotWidth: number;
  maxTicks: number;
  medianRow: number;
  orderRow: number;
}

const DEFAULT_WIDTH = 960;
const COMPACT_BELOW = 600;
const AXIS_HEIGHT = 26;
const GROUP_HEAD = 30;
const GROUP_GAP = 16;

function layoutFor(width: number): Layout {
  if (width < COMPACT_BELOW) {
    return { width, compact: true, plotX: 0, plotWidth: width - 2, maxTicks: 4, medianRow: 46, orderRow: 38 };
  }
  const plotX = 150;
  return {
    width,
    compact: false,
    plotX,
    plotWidth: width - plotX - 200,
    maxTicks: 6,
    medianRow: 34,
    orderRow: 25,
  };
}

interface Row {
  key: string;
  label: string;
  answer: number | null;
  done: number | null;
  /** Not done yet: the done bar grows until now. */
  elapsed: number | null;
  /** What to call an unfinished done bar: still moving, or stuck in the dead-letter set. */
  unfinished: string;
  failed: boolean;
  median: boolean;
  title: string;
}

interface Group {
  mode: CheckoutMode;
  count: number;
  /** How many of them the median row is taken over. */
  completed: number;
  rows: Row[];
}

function orderRow(order: OrderView, now: number): Row {
  const answer = timeToAnswer(order);
  // The machines' time: a step's wait in the dead-letter set for a person is not theirs.
  const done = machineTimeToDone(order);
  const elapsed = done === null ? timeSoFar(order, now) : null;
  const failed = order.status === "failed";
  const unfinished = isParked(order) ? "parked" : "in progress";
  return {
    key: order.id,
    label: order.id.slice(0, 8),
    answer,
    done,
    elapsed,
    unfinished,
    failed,
    median: false,
    title: `Order ${order.id.slice(0, 8)} (${MODES[order.mode].label}): answer ${
      answer === null ? (failed ? "an error" : "not yet") : formatDuration(answer)
    }, done ${done === null ? unfinished : formatDuration(done)}`,
  };
}

function medianRow(summary: ModeSummary): Row {
  const { answer, done } = summary;
  const label = MODES[summary.mode].label;
  return {
    key: `median-${summary.mode}`,
    label: "median",
    answer,
    done,
    elapsed: null,
    unfinished: "–",
    failed: false,
    median: true,
    title: `${label} median of ${summary.completed} completed: answer ${
      answer === null ? "–" : formatDuration(answer)
    }, done ${done === null ? "–" : formatDuration(done)}`,
  };
}

function groupsByMode(orders: readonly OrderView[], now: number): Group[] {
  return summarizeModes(orders).map((summary) => ({
    mode: summary.mode,
    count: summary.total,
    completed: summary.completed,
    rows: [
      medianRow(summary),
      ...orders
        .filter((order) => order.mode === summary.mode)
        .slice(0, ORDERS_PER_MODE)
        .map((order) => orderRow(order, now)),
    ],
  }));
}

/** The axis fits the finished timings. A bar still growing (an order in progress, or one whose step
 * waits in the dead-letter set) is cut at the end rather than squashing everything else; so is a
 * single outlier (a dead letter retried minutes later), when enough other timings set the scale. */
function axisSpan(rows: readonly Row[]): number {
  const finished = rows.flatMap((row) => [row.answer, row.done]).filter((value) => value !== null);
  const values = (finished.length > 0 ? finished : rows.map((row) => row.elapsed ?? 0)).sort((a, b) => a - b);
  const max = values.at(-1) ?? 0;
  const typical = values[Math.floor((values.length - 1) * 0.75)] ?? max;
  const span = values.length >= 4 && max > typical * 4 ? typical * 3 : max;
  return Math.max(500, span * 1.04);
}

/** Two slanted strokes across the end of a bar the axis cut short. */
function cutMark(layout: Layout, barY: number, bar: number): string {
  const end = layout.plotX + layout.plotWidth;
  return `M${end - 10},${barY + bar + 1} l5,${-bar - 2} M${end - 5},${barY + bar + 1} l5,${-bar - 2}`;
}

function valueText(row: Row): string {
  const answer = row.failed ? "failed" : row.answer === null ? "–" : formatDuration(row.answer);
  const done = row.done !== null ? formatDuration(row.done) : row.elapsed !== null ? row.unfinished : "–";
  return row.median ? `waited ${answer} · done ${done}` : `${answer} · ${done}`;
}

export function ComparisonChart({ orders, now }: { orders: readonly OrderView[]; now: number }) {
  const [frame, measured] = useElementWidth<HTMLDivElement>();
  const layout = layoutFor(measured ?? DEFAULT_WIDTH);
  const { plotX, plotWidth, compact } = layout;
  const groups = groupsByMode(orders, now);
  const ticks = niceTicks(axisSpan(groups.flatMap((group) => group.rows)), layout.maxTicks);
  const domain = ticks.at(-1) ?? 1;
  const x = (ms: number) => plotX + (Math.min(ms, domain) / domain) * plotWidth;
  const cut = (ms: number) => ms > domain;
  const rowHeight = (row: Row) => (row.median ? layout.medianRow : layout.orderRow);

  let y = AXIS_HEIGHT + 6;
  const laidOut = groups.map((group, index) => {
    const top = y + (index > 0 ? GROUP_GAP : 0);
    let rowY = top + GROUP_HEAD;
    const rows = group.rows.map((row) => {
      const placed = { row, y: rowY };
      rowY += rowHeight(row);
      return placed;
    });
    y = rowY;
    return { group, top, rows };
  });
  const height = y + 8;

  const summary = groups
    .map((group) => `${MODES[group.mode].label}: ${group.rows[0] ? valueText(group.rows[0]) : ""}`)
    .join("; ");

  return (
    <div ref={frame} className={styles.cmpFrame}>
      <svg
        className={styles.cmpChart}
        width={layout.width}
        height={height}
        viewBox={`0 0 ${layout.width} ${height}`}
        role="img"
        aria-label={`Median ${TIMINGS.answer.label.toLowerCase()} · ${TIMINGS.done.label.toLowerCase()} per mode. ${summary}`}
      >
        {ticks.map((tick) => (
          <g key={tick}>
            <line className={styles.cmpGrid} x1={x(tick)} x2={x(tick)} y1={AXIS_HEIGHT - 4} y2={height - 4} />
            <text
              className={styles.cmpTick}
              x={x(tick)}
              y={AXIS_HEIGHT - 10}
              textAnchor={tick === 0 ? "start" : tick === domain && compact ? "end" : "middle"}
            >
              {formatTick(tick)}
            </text>
          </g>
        ))}
        {laidOut.map(({ group, top, rows }) => (
          <g key={group.mode} data-mode={group.mode}>
            <text className={styles.cmpGroupTitle} x={0} y={top + 19}>
              {MODES[group.mode].label}
              <tspan className={styles.cmpGroupCount} dx={8}>
                {group.count} {group.count === 1 ? "order" : "orders"} · median of {group.completed} completed
              </tspan>
            </text>
            <line className={styles.cmpGroupRule} x1={0} x2={layout.width} y1={top + 26} y2={top + 26} />
            {rows.map(({ row, y: rowY }) => {
              const bar = row.median ? (compact ? 9 : 11) : compact ? 7 : 8;
              const gap = row.median ? 3 : 2;
              // Compact: a line of text, then the bars under it. Wide: the bars centred in the row.
              const textY = compact ? rowY + 13 : rowY + rowHeight(row) / 2 + 4;
              const answerY = compact ? rowY + 19 : rowY + rowHeight(row) / 2 - bar - gap / 2;
              const doneY = answerY + bar + gap;
              const doneMs = row.done ?? row.elapsed;
              return (
                <g key={row.key} className={styles.cmpRow} data-median={row.median || undefined}>
                  <title>{row.title}</title>
                  <text
                    className={styles.cmpLabel}
                    x={compact ? 0 : plotX - 12}
                    y={textY}
                    textAnchor={compact ? "start" : "end"}
                  >
                    {row.label}
                  </text>
                  {row.answer !== null && (
                    <rect
                      className={styles.cmpBarAnswer}
                      x={plotX}
                      y={answerY}
                      width={Math.max(2, x(row.answer) - plotX)}
                      height={bar}
                      rx={2}
                    />
                  )}
                  {row.failed && (
                    <text className={styles.cmpFailed} x={plotX + 4} y={answerY + bar - 1}>
                      checkout failed
                    </text>
                  )}
                  {doneMs !== null && (
                    <rect
                      className={styles.cmpBarDone}
                      data-in-progress={row.done === null || undefined}
                      x={plotX}
                      y={doneY}
                      width={Math.max(2, x(doneMs) - plotX)}
                      height={bar}
                      rx={2}
                    />
                  )}
                  {(
                    [
                      ["answer", row.answer, answerY],
                      ["done", doneMs, doneY],
                    ] as const
                  ).map(([name, ms, barY]) =>
                    ms !== null && cut(ms) ? (
                      <path key={name} className={styles.cmpCut} d={cutMark(layout, barY, bar)} />
                    ) : null,
                  )}
                  <text
                    className={styles.cmpValue}
                    x={compact ? layout.width : plotX + plotWidth + 14}
                    y={textY}
                    textAnchor={compact ? "end" : "start"}
                  >
                    {valueText(row)}
                  </text>
                </g>
              );
            })}
          </g>
        ))}
      </svg>
    </div>
  );
}
