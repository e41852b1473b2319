// One time-series chart of the Rush hour lab, drawn by uPlot (canvas, fast enough to redraw every
// second). Seconds since the run started along the bottom; one line per series. The chart itself is
// a picture; the figure's caption says the latest values in words, for screen readers and for anyone
// who wants the number rather than the shape.
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
  dashed?: boolean;
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
}

const HEIGHT = 190;
const WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000];
const AXIS = { stroke: "#5f646b", grid: { stroke: "#ece7df", width: 1 }, ticks: { stroke: "#ece7df" } };

export function TimeChart(props: Props) {
  // A chart is built for one set of lines: another set gets a chart of its own.
  const shape = props.lines.map((line) => `${line.label}:${line.color}:${line.dashed ? 1 : 0}`).join("|");
  return <Chart key={shape} {...props} />;
}

function Chart({ title, x, lines, format, floor = 0, whole = false }: Props) {
  const [frameRef, width] = useElementWidth<HTMLDivElement>();
  const canvasRef = useRef<HTMLDivElement | null>(null);
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
          x: { time: false },
          y: { range: (_u, min, max) => [Math.min(props.floor, min), Math.max(max, props.floor + 1)] },
        },
        series: [
          { label: "Second" },
          ...props.lines.map((line) => ({
            label: line.label,
            stroke: line.color,
            width: 2,
            dash: line.dashed ? [6, 4] : undefined,
            spanGaps: true,
            points: { show: false },
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
        <span className="visually-hidden">Latest: {latest}</span>
      </figcaption>
      <div ref={frameRef} className={styles.frame}>
        <div ref={canvasRef} aria-hidden="true" />
      </div>
    </figure>
  );
}

function dataOf(x: number[], lines: ChartLine[]): uPlot.AlignedData {
  return [x, ...lines.map((line) => line.values)];
}
