// One time-series chart of the Rush hour lab, drawn by uPlot (canvas, fast enough to redraw every
// second). Seconds since the run started along the bottom; one line per series. A series with a single
// value (a burst answered within one second) is a point with its value written beside it; short series
// get their points drawn too, so nothing measured is invisible. Hovering shows the values of that
// second. The chart itself is a picture; the figure's caption says the latest values in words, for
// screen readers and for anyone who wants the number rather than the shape.
"use client";

import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useElementWidth } from "../../_lib/useElementWidth";
import styles from "./TimeChart.module.css";

export interface ChartLine {
  label: string;
  color: string;
  values: (number | null)[];
  /** Canvas dash pattern (solid without). */
  dash?: number[];
  /** Line width in CSS pixels (2 without). */
  width?: number;
}

interface Props {
  title: string;
  /** Seconds since the start, one per value of every line. */
  x: number[];
  lines: ChartLine[];
  format: (value: number) => string;
  /** The lowest value the vertical axis always shows (0 for counts and times). */
  floor?: number;
  /** Whole numbers only on the vertical axis (counts of jobs, requests). */
  whole?: boolean;
  /** A line under the title: what the figures are (exact, from buckets, of how many orders). */
  note?: string;
}

const HEIGHT = 190;
const WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000];
const AXIS = { stroke: "#5f646b", grid: { stroke: "#ece7df", width: 1 }, ticks: { stroke: "#ece7df" } };
/** A series with this many values or fewer shows its points: a line of two is easily missed. */
const FEW_VALUES = 5;
const LABEL_FONT_PX = 12;

export function TimeChart(props: Props) {
  // A chart is built for one set of lines: another set gets a chart of its own.
  const shape = props.lines
    .map((line) => `${line.label}:${line.color}:${line.dash?.join(",") ?? ""}:${line.width ?? ""}`)
    .join("|");
  return <Chart key={shape} {...props} />;
}

/** Indices of a series' values (null: missing). */
function valueIndices(values: readonly (number | null | undefined)[]): number[] {
  return values.flatMap((value, index) => (value === null || value === undefined ? [] : [index]));
}

function Chart({ title, x, lines, format, floor = 0, whole = false, note }: Props) {
  const [frameRef, width] = useElementWidth<HTMLDivElement>();
  const canvasRef = useRef<HTMLDivElement | null>(null);
  const tipRef = useRef<HTMLDivElement | null>(null);
  const chart = useRef<uPlot | null>(null);
  const latestProps = useRef({ x, lines, format, floor, whole });
  latestProps.current = { x, lines, format, floor, whole };
  const measured = width !== null;

  useEffect(() => {
    const element = canvasRef.current;
    const frame = frameRef.current;
    if (!measured || !element || !frame) return;
    const props = latestProps.current;
    const show = (value: number | null | undefined) =>
      value === null || value === undefined ? "–" : latestProps.current.format(value);
    chart.current = new uPlot(
      {
        width: frame.clientWidth,
        height: HEIGHT,
        scales: {
          // One second alone still gets an axis around it.
          x: { time: false, range: (_u, min, max) => (min === max ? [min - 1, max + 1] : [min, max]) },
          y: { range: (_u, min, max) => [Math.min(props.floor, min), Math.max(max, props.floor + 1)] },
        },
        series: [
          { label: "Second" },
          ...props.lines.map((line) => ({
            label: line.label,
            stroke: line.color,
            width: line.width ?? 2,
            dash: line.dash,
            spanGaps: true,
            // Points only where the filter says (a short series); none on a long line.
            points: {
              show: false,
              size: 7,
              fill: line.color,
              filter: (u: uPlot, seriesIndex: number) => {
                const indices = valueIndices(Array.from(u.data[seriesIndex] ?? []));
                return indices.length <= FEW_VALUES ? indices : null;
              },
            },
            value: (_u: uPlot, value: number | null) => show(value),
          })),
        ],
        axes: [
          { ...AXIS, values: (_u, ticks) => ticks.map((tick) => `${tick}s`) },
          {
            ...AXIS,
            size: 64,
            incrs: props.whole ? WHOLE_STEPS : undefined,
            values: (_u, ticks) => ticks.map((tick) => show(tick)),
          },
        ],
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
        hooks: {
          draw: [(u) => labelSinglePoints(u, show)],
          setCursor: [(u) => showTip(u, tipRef.current, show)],
        },
      },
      dataOf(props.x, props.lines),
      element,
    );
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, [measured, frameRef]);

  useEffect(() => {
    chart.current?.setData(dataOf(x, lines));
  }, [x, lines]);
  useEffect(() => {
    if (width) chart.current?.setSize({ width, height: HEIGHT });
  }, [width]);

  const latest = lines
    .map((line) => {
      const value = line.values.findLast((candidate) => candidate !== null);
      return `${line.label} ${value === undefined || value === null ? "–" : format(value)}`;
    })
    .join(", ");

  return (
    <figure className={styles.figure}>
      <figcaption className={styles.caption}>
        <span className={styles.title}>{title}</span>
        {note && <span className={styles.note}>{note}</span>}
        <span className="visually-hidden">Latest: {latest}</span>
      </figcaption>
      <div ref={frameRef} className={styles.frame}>
        <div ref={canvasRef} aria-hidden="true" />
        <div ref={tipRef} className={styles.tip} data-chart-tip aria-hidden="true" hidden />
      </div>
    </figure>
  );
}

/** Writes its value beside each point that stands alone (a series of one value), nudging labels
 * apart so two close values stay readable. */
function labelSinglePoints(u: uPlot, show: (value: number) => string): void {
  const ratio = window.devicePixelRatio || 1;
  const labels = u.series.flatMap((series, seriesIndex) => {
    const values = Array.from(u.data[seriesIndex] ?? []);
    const indices = seriesIndex === 0 ? [] : valueIndices(values);
    const index = indices[0];
    const value = index === undefined ? null : values[index];
    const second = index === undefined ? null : u.data[0][index];
    if (indices.length !== 1 || value === null || value === undefined) return [];
    if (second === null || second === undefined) return [];
    return [
      {
        text: show(value),
        color: typeof series.stroke === "function" ? series.stroke(u, seriesIndex) : series.stroke,
        left: u.valToPos(second, "x", true),
        top: u.valToPos(value, "y", true),
      },
    ];
  });
  const ctx = u.ctx;
  const lineHeight = (LABEL_FONT_PX + 3) * ratio;
  ctx.save();
  ctx.font = `600 ${LABEL_FONT_PX * ratio}px system-ui, sans-serif`;
  ctx.textBaseline = "middle";
  let lastTop = Number.NEGATIVE_INFINITY;
  for (const label of labels.sort((a, b) => a.top - b.top)) {
    const top = Math.max(label.top, lastTop + lineHeight);
    lastTop = top;
    const onRight = label.left < u.bbox.left + u.bbox.width * 0.6;
    ctx.textAlign = onRight ? "left" : "right";
    ctx.fillStyle = String(label.color ?? "#23272b");
    ctx.fillText(label.text, label.left + (onRight ? 8 : -8) * ratio, top);
  }
  ctx.restore();
}

/** The values of the second under the cursor, in a small box beside it (hidden off the plot). */
function showTip(u: uPlot, tip: HTMLDivElement | null, show: (value: number) => string): void {
  if (!tip) return;
  const index = u.cursor.idx;
  const left = u.cursor.left ?? -1;
  const second = index === null || index === undefined ? undefined : u.data[0][index];
  if (index === null || index === undefined || second === undefined || left < 0) {
    tip.hidden = true;
    return;
  }
  const heading = document.createElement("strong");
  heading.textContent = `${Math.round(second)} s`;
  const rows = u.series.slice(1).map((series, offset) => {
    const value = u.data[offset + 1]?.[index];
    const row = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = String(series.stroke ?? "");
    row.append(swatch, `${series.label ?? ""} ${value === null || value === undefined ? "–" : show(value)}`);
    return row;
  });
  tip.replaceChildren(heading, ...rows);
  tip.hidden = false;
  const plotLeft = u.over.offsetLeft;
  const flip = left > u.over.clientWidth / 2;
  tip.style.left = flip ? "" : `${plotLeft + left + 12}px`;
  tip.style.right = flip ? `${u.root.clientWidth - plotLeft - left + 12}px` : "";
  tip.style.top = `${Math.max(0, (u.cursor.top ?? 0) - 10)}px`;
}

function dataOf(x: number[], lines: ChartLine[]): uPlot.AlignedData {
  return [x, ...lines.map((line) => line.values)];
}
