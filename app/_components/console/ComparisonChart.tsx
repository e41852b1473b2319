// The comparison at a glance, drawn in SVG: per order a pair of bars on one clock, time to answer
// (what the shopper waited for) above time to done (until the last step), grouped
// and coloured by checkout mode, each group led by its medians. Sync pairs come out equally long;
// async pairs are a short bar over a long one: eventual consistency.
"use client";

import type { CheckoutMode, OrderView } from "@/server/contract";
import { formatDuration, formatTick } from "../../_lib/format";
import { MODES } from "../../_lib/mode";
import {
  isParked,
  type ModeSummary,
  niceTicks,
  summarizeModes,
  TIMINGS,
  timeToAnswer,
  timeToDone,
} from "../../_lib/order-timing";

const ORDERS_PER_MODE = 6;

const WIDTH = 960;
const LABEL_X = 0;
const PLOT_X = 150;
const PLOT_WIDTH = 610;
const VALUE_X = PLOT_X + PLOT_WIDTH + 14;
const AXIS_HEIGHT = 26;
const GROUP_HEAD = 30;
const MEDIAN_ROW = 34;
const ORDER_ROW = 25;
const GROUP_GAP = 16;

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
  const done = timeToDone(order);
  const elapsed = done === null ? Math.max(0, now - Date.parse(order.createdAt)) : null;
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
function cutMark(barY: number, bar: number): string {
  const end = PLOT_X + PLOT_WIDTH;
  return `M${end - 10},${barY + bar + 1} l5,${-bar - 2} M${end - 5},${barY + bar + 1} l5,${-bar - 2}`;
}

function valueText(row: Row): string {
  const answer = row.failed ? "failed" : row.answer === null ? "–" : formatDuration(row.answer);
  const done = row.done !== null ? formatDuration(row.done) : row.elapsed !== null ? row.unfinished : "–";
  return row.median ? `waited ${answer} · done ${done}` : `${answer} · ${done}`;
}

export function ComparisonChart({ orders, now }: { orders: readonly OrderView[]; now: number }) {
  const groups = groupsByMode(orders, now);
  const ticks = niceTicks(axisSpan(groups.flatMap((group) => group.rows)));
  const domain = ticks.at(-1) ?? 1;
  const x = (ms: number) => PLOT_X + (Math.min(ms, domain) / domain) * PLOT_WIDTH;
  const cut = (ms: number) => ms > domain;

  let y = AXIS_HEIGHT + 6;
  const laidOut = groups.map((group, index) => {
    const top = y + (index > 0 ? GROUP_GAP : 0);
    const rows = group.rows.map((row, rowIndex) => ({
      row,
      y: top + GROUP_HEAD + (rowIndex === 0 ? 0 : MEDIAN_ROW + (rowIndex - 1) * ORDER_ROW),
    }));
    y = top + GROUP_HEAD + MEDIAN_ROW + (group.rows.length - 1) * ORDER_ROW;
    return { group, top, rows };
  });
  const height = y + 8;

  const summary = groups
    .map((group) => `${MODES[group.mode].label}: ${group.rows[0] ? valueText(group.rows[0]) : ""}`)
    .join("; ");

  return (
    <svg
      className="cmp-chart"
      viewBox={`0 0 ${WIDTH} ${height}`}
      role="img"
      aria-label={`Median ${TIMINGS.answer.label.toLowerCase()} · ${TIMINGS.done.label.toLowerCase()} per mode. ${summary}`}
    >
      {ticks.map((tick) => (
        <g key={tick}>
          <line className="cmp-grid" x1={x(tick)} x2={x(tick)} y1={AXIS_HEIGHT - 4} y2={height - 4} />
          <text
            className="cmp-tick"
            x={x(tick)}
            y={AXIS_HEIGHT - 10}
            textAnchor={tick === 0 ? "start" : "middle"}
          >
            {formatTick(tick)}
          </text>
        </g>
      ))}
      {laidOut.map(({ group, top, rows }) => (
        <g key={group.mode} className="cmp-group" data-mode={group.mode}>
          <text className="cmp-group-title" x={LABEL_X} y={top + 19}>
            {MODES[group.mode].label}
            <tspan className="cmp-group-count" dx={8}>
              {group.count} {group.count === 1 ? "order" : "orders"} · median of {group.completed} completed
            </tspan>
          </text>
          <line className="cmp-group-rule" x1={LABEL_X} x2={WIDTH} y1={top + 26} y2={top + 26} />
          {rows.map(({ row, y: rowY }) => {
            const bar = row.median ? 11 : 8;
            const gap = row.median ? 3 : 2;
            const middle = rowY + (row.median ? MEDIAN_ROW : ORDER_ROW) / 2;
            const answerY = middle - bar - gap / 2;
            const doneY = middle + gap / 2;
            const doneMs = row.done ?? row.elapsed;
            return (
              <g key={row.key} className="cmp-row" data-median={row.median || undefined}>
                <title>{row.title}</title>
                <text className="cmp-label" x={PLOT_X - 12} y={middle + 4} textAnchor="end">
                  {row.label}
                </text>
                {row.answer !== null && (
                  <rect
                    className="cmp-bar cmp-bar-answer"
                    x={PLOT_X}
                    y={answerY}
                    width={Math.max(2, x(row.answer) - PLOT_X)}
                    height={bar}
                    rx={2}
                  />
                )}
                {row.failed && (
                  <text className="cmp-failed" x={PLOT_X + 4} y={answerY + bar - 1}>
                    checkout failed
                  </text>
                )}
                {doneMs !== null && (
                  <rect
                    className="cmp-bar cmp-bar-done"
                    data-in-progress={row.done === null || undefined}
                    x={PLOT_X}
                    y={doneY}
                    width={Math.max(2, x(doneMs) - PLOT_X)}
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
                    <path key={name} className="cmp-cut" d={cutMark(barY, bar)} />
                  ) : null,
                )}
                <text className="cmp-value" x={VALUE_X} y={middle + 4}>
                  {valueText(row)}
                </text>
              </g>
            );
          })}
        </g>
      ))}
    </svg>
  );
}
