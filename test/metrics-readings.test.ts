// What the Rush hour panel reads of the processes' metrics: prom-client's JSON, as a worker sends it
// (through JSON.stringify, as over HTTP), summed across processes by prom-client, and the arithmetic
// done on it, checked against hand-computed answers.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import {
  histogramDelta,
  histogramOf,
  mergeProcesses,
  processMetricsSchema,
  quantileOf,
  seriesSum,
} from "../server/metrics/readings";

/** One process's metrics, as the web process receives a worker's. */
async function processMetrics(observations: number[], orders: number, inFlight = 3) {
  const registry = new Registry();
  const counter = new Counter({
    name: "t_orders_total",
    help: "Orders",
    labelNames: ["mode"],
    registers: [registry],
  });
  const gauge = new Gauge({ name: "t_in_flight", help: "In flight", registers: [registry] });
  const histogram = new Histogram({
    name: "t_answer_seconds",
    help: "Answers",
    labelNames: ["mode"],
    buckets: [0.1, 1, 10],
    registers: [registry],
  });
  counter.inc({ mode: "async" }, orders);
  gauge.set(inFlight);
  for (const seconds of observations) histogram.observe({ mode: "async" }, seconds);
  return processMetricsSchema.parse(JSON.parse(JSON.stringify(await registry.getMetricsAsJSON())));
}

/** t_answer_seconds as read: `counts` in its buckets (0.1, 1, 10, +Inf), `sum` seconds in all. */
function answers(counts: number[], sum: number) {
  const bounds = [0.1, 1, 10, Number.POSITIVE_INFINITY];
  return { buckets: bounds.map((le, index) => ({ le, count: counts[index] })), count: counts.at(-1), sum };
}

describe("one process's metrics", () => {
  it("reads counters, gauges and histograms as prom-client gives them, over JSON", async () => {
    const metrics = await processMetrics([0.05, 0.5, 5, 50], 2);
    expect(seriesSum(metrics, "t_orders_total", { mode: "async" })).toBe(2);
    expect(seriesSum(metrics, "t_orders_total", { mode: "sync" })).toBe(0);
    expect(seriesSum(metrics, "t_in_flight")).toBe(3);
    expect(seriesSum(metrics, "t_answer_seconds", {}, "t_answer_seconds_count")).toBe(4);
    expect(histogramOf(metrics, "t_answer_seconds", { mode: "async" })).toEqual(answers([1, 2, 3, 4], 55.55));
  });

  it("keeps a NaN that JSON carried as null, and refuses what prom-client would not send", async () => {
    const gauge = (await processMetrics([], 0, Number.NaN)).find((metric) => metric.name === "t_in_flight");
    expect(gauge?.values[0]?.value).toBeNaN();
    expect(
      processMetricsSchema.safeParse([{ name: "x", help: "h", type: "gauge", values: [] }]).success,
    ).toBe(false);
    expect(processMetricsSchema.safeParse("# HELP x h").success).toBe(false);
  });
});

describe("mergeProcesses (prom-client's AggregatorRegistry)", () => {
  it("sums the same series across processes and keeps a metric only one of them exports", async () => {
    const web = await processMetrics([0.05], 1);
    const worker = await processMetrics([0.5, 5], 4);
    const only = processMetricsSchema.parse([
      { name: "only", help: "h", type: "gauge", aggregator: "sum", values: [{ value: 7, labels: {} }] },
    ]);
    const merged = await mergeProcesses([web, worker, only]);
    expect(seriesSum(merged, "t_orders_total")).toBe(5);
    expect(seriesSum(merged, "t_in_flight")).toBe(6);
    expect(seriesSum(merged, "only")).toBe(7);
    expect(histogramOf(merged, "t_answer_seconds")).toEqual(answers([1, 2, 3, 3], 5.55));
    // The inputs are not changed.
    expect(seriesSum(web, "t_orders_total")).toBe(1);
  });
});

describe("quantileOf (as Prometheus' histogram_quantile)", () => {
  const buckets = [
    { le: 1, count: 10 },
    { le: 2, count: 20 },
    { le: 4, count: 40 },
    { le: Number.POSITIVE_INFINITY, count: 40 },
  ];
  it("interpolates inside the bucket the rank falls in", () => {
    expect(quantileOf(0.25, buckets)).toBe(1);
    expect(quantileOf(0.375, buckets)).toBe(1.5);
    expect(quantileOf(0.75, buckets)).toBe(3);
    expect(quantileOf(1, buckets)).toBe(4);
  });
  it("starts the first bucket at 0", () => {
    expect(quantileOf(0.125, buckets)).toBe(0.5);
  });
  it("answers the highest finite bound for a rank in +Inf", () => {
    expect(
      quantileOf(0.99, [
        { le: 1, count: 5 },
        { le: Number.POSITIVE_INFINITY, count: 10 },
      ]),
    ).toBe(1);
  });
  it("is null when nothing was observed, and refuses a q outside 0..1", () => {
    expect(
      quantileOf(0.5, [
        { le: 1, count: 0 },
        { le: Number.POSITIVE_INFINITY, count: 0 },
      ]),
    ).toBeNull();
    expect(quantileOf(0.5, [])).toBeNull();
    expect(() => quantileOf(1.5, buckets)).toThrow(RangeError);
  });
  it("works on what was observed between two readings", async () => {
    const before = histogramOf(await processMetrics([0.05, 0.05], 0), "t_answer_seconds");
    const after = histogramOf(await processMetrics([0.05, 0.05, 5, 5], 0), "t_answer_seconds");
    const delta = histogramDelta(before, after);
    expect(delta.count).toBe(2);
    expect(quantileOf(0.5, delta.buckets)).toBe(5.5);
    // A reset (fewer observations than before) counts what the new process observed.
    expect(histogramDelta(after, before)).toEqual(before);
  });
});
