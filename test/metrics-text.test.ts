// The Prometheus text reader and the arithmetic the Rush hour panel does on scrapes: pure functions,
// checked against prom-client's own output and against hand-computed answers.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import {
  histogramDelta,
  histogramOf,
  mergeFamilies,
  PrometheusTextError,
  parsePrometheusText,
  quantileOf,
  rateBetween,
  seriesSum,
} from "../server/metrics/text";

async function sampleScrape(observations: number[], orders: number) {
  const registry = new Registry();
  const counter = new Counter({
    name: "t_orders_total",
    help: 'Orders, with "quotes" and a \\ backslash',
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
  counter.inc({ mode: 'a "quoted"\\ mode\nwith a newline' }, orders);
  gauge.set(3);
  for (const seconds of observations) histogram.observe({ mode: "async" }, seconds);
  return registry.metrics();
}

describe("parsePrometheusText", () => {
  it("reads prom-client's output, escapes included", async () => {
    const families = parsePrometheusText(await sampleScrape([0.05, 0.5, 5, 50], 2));
    expect(families.t_orders_total).toMatchObject({
      type: "counter",
      help: 'Orders, with "quotes" and a \\ backslash',
    });
    expect(families.t_orders_total?.samples).toEqual([
      { name: "t_orders_total", labels: { mode: 'a "quoted"\\ mode\nwith a newline' }, value: 2 },
    ]);
    expect(seriesSum(families, "t_in_flight")).toBe(3);
    expect(histogramOf(families, "t_answer_seconds", { mode: "async" })).toEqual({
      buckets: [
        { le: 0.1, count: 1 },
        { le: 1, count: 2 },
        { le: 10, count: 3 },
        { le: Number.POSITIVE_INFINITY, count: 4 },
      ],
      count: 4,
      sum: 55.55,
    });
  });

  it.each([
    ["a sample without a TYPE line", "# HELP x help\nx 1\n"],
    ["a family without HELP", "# TYPE x counter\nx 1\n"],
    ["a value that is not a number", "# HELP x h\n# TYPE x gauge\nx one\n"],
    ["an unterminated label value", '# HELP x h\n# TYPE x gauge\nx{a="1} 1\n'],
    ["an unquoted label value", "# HELP x h\n# TYPE x gauge\nx{a=1} 1\n"],
    ["a bad label name", '# HELP x h\n# TYPE x gauge\nx{1a="1"} 1\n'],
    ["a series given twice", '# HELP x h\n# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n'],
    ["a bucket without le", "# HELP x h\n# TYPE x histogram\nx_bucket 1\n"],
    ["an unknown type", "# HELP x h\n# TYPE x thing\n"],
    ["a TYPE after samples", "# HELP x h\n# TYPE x gauge\nx 1\n# TYPE x gauge\n"],
    ["garbage", "# HELP x h\n# TYPE x gauge\n{oops} 1\n"],
    ["a bad timestamp", "# HELP x h\n# TYPE x gauge\nx 1 soon\n"],
    ["a bare histogram name", "# HELP x h\n# TYPE x histogram\nx 1\n"],
  ])("refuses %s", (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow(PrometheusTextError);
  });

  it("accepts special values, timestamps, comments and blank lines", () => {
    const families = parsePrometheusText(
      '# a comment\n\n# HELP x h\n# TYPE x gauge\nx{a="1",} +Inf 1700000000000\nx{a="2"} NaN\nx{a="3"} -1.5e3\nx{a="4"} Nan\n',
    );
    expect(families.x?.samples.map((sample) => sample.value)).toEqual([
      Number.POSITIVE_INFINITY,
      Number.NaN,
      -1500,
      // prom-client's spelling; Prometheus reads it too.
      Number.NaN,
    ]);
  });
});

describe("mergeFamilies", () => {
  it("sums the same series across processes and keeps the rest", async () => {
    const web = parsePrometheusText(await sampleScrape([0.05], 1));
    const worker = parsePrometheusText(await sampleScrape([0.5, 5], 4));
    const merged = mergeFamilies([
      web,
      worker,
      { only: { name: "only", type: "gauge", help: "h", samples: [{ name: "only", labels: {}, value: 7 }] } },
    ]);
    expect(seriesSum(merged, "t_orders_total")).toBe(5);
    expect(seriesSum(merged, "t_in_flight")).toBe(6);
    expect(seriesSum(merged, "only")).toBe(7);
    expect(histogramOf(merged, "t_answer_seconds")).toMatchObject({ count: 3, sum: 5.55 });
    // The inputs are not changed.
    expect(seriesSum(web, "t_orders_total")).toBe(1);
  });
});

describe("rateBetween", () => {
  it("is the increase per second", () => {
    expect(rateBetween({ value: 10, at: 1_000 }, { value: 40, at: 3_000 })).toBe(15);
  });
  it("counts everything after a reset (a restarted process)", () => {
    expect(rateBetween({ value: 100, at: 0 }, { value: 6, at: 2_000 })).toBe(3);
  });
  it("is 0 without time between the readings", () => {
    expect(rateBetween({ value: 1, at: 5 }, { value: 9, at: 5 })).toBe(0);
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
  it("works on what was observed between two scrapes", async () => {
    const before = histogramOf(parsePrometheusText(await sampleScrape([0.05, 0.05], 0)), "t_answer_seconds");
    const after = histogramOf(
      parsePrometheusText(await sampleScrape([0.05, 0.05, 5, 5], 0)),
      "t_answer_seconds",
    );
    const delta = histogramDelta(before, after);
    expect(delta.count).toBe(2);
    expect(quantileOf(0.5, delta.buckets)).toBe(5.5);
    // A reset (fewer observations than before) counts what the new process observed.
    expect(histogramDelta(after, before)).toEqual(before);
  });
});
