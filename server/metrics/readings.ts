// Metrics as prom-client hands them over (`registry.getMetricsAsJSON()`), several processes' summed
// into one by prom-client's own `AggregatorRegistry.aggregate()`, and the arithmetic the Rush hour
// panel does on them that no library here offers: a series' sum over labels, a histogram's buckets, what
// was observed between two readings, and a quantile from buckets as Prometheus' histogram_quantile
// computes it (prom-client records histograms but does not estimate their quantiles).
import { AggregatorRegistry } from "prom-client";
import { z } from "zod";

/** What the web process asks a worker's /metrics for: prom-client's JSON (`getMetricsAsJSON()`), which
 * `AggregatorRegistry.aggregate()` sums across processes. Anyone else gets the Prometheus text. */
export const METRICS_JSON = "application/json";

export type Labels = Record<string, string>;

/** One process's metrics, as `getMetricsAsJSON()` gives them; a worker sends them to the web process
 * as JSON, where NaN becomes null. */
export const processMetricsSchema = z.array(
  z.object({
    name: z.string(),
    help: z.string(),
    type: z.string(),
    aggregator: z.enum(["omit", "sum", "first", "min", "max", "average"]),
    values: z.array(
      z.object({
        value: z
          .number()
          .nullable()
          .transform((value) => value ?? Number.NaN),
        labels: z.record(z.string(), z.union([z.string(), z.number()])),
        metricName: z.string().optional(),
      }),
    ),
  }),
);

/** What is read of a process's metrics: a registry's `getMetricsAsJSON()` is one, and so is a worker's
 * answer once parsed by processMetricsSchema. */
export interface MetricReading {
  name: string;
  values: { value: number; labels: Partial<Record<string, string | number>>; metricName?: string }[];
}
export type ProcessMetrics = readonly MetricReading[];

/** Several processes' metrics as one: the same series summed (each metric's `aggregator`; all of this
 * project's are sums), a metric only some processes export kept as it is. */
export async function mergeProcesses(all: readonly ProcessMetrics[]): Promise<ProcessMetrics> {
  return AggregatorRegistry.aggregate([...all]).getMetricsAsJSON();
}

function hasLabels(labels: MetricReading["values"][number]["labels"], wanted: Labels): boolean {
  return Object.entries(wanted).every(([key, value]) => String(labels[key]) === value);
}

/** The sum of a counter's or gauge's series whose labels include `labels` (0 if there is none); of a
 * histogram, name one of its series (`x_count`). */
export function seriesSum(
  metrics: ProcessMetrics,
  name: string,
  labels: Labels = {},
  seriesName = name,
): number {
  const metric = metrics.find((candidate) => candidate.name === name);
  if (!metric) return 0;
  return metric.values
    .filter((value) => (value.metricName ?? name) === seriesName && hasLabels(value.labels, labels))
    .reduce((sum, value) => sum + value.value, 0);
}

/** A histogram's cumulative buckets: how many observations were ≤ le. */
export interface Bucket {
  le: number;
  count: number;
}

export interface HistogramReading {
  buckets: Bucket[];
  count: number;
  sum: number;
}

/** A histogram's series whose labels include `labels`, summed, buckets sorted by le. */
export function histogramOf(metrics: ProcessMetrics, name: string, labels: Labels = {}): HistogramReading {
  const byLe = new Map<number, number>();
  let count = 0;
  let sum = 0;
  for (const { value, labels: all, metricName } of metrics.find((metric) => metric.name === name)?.values ??
    []) {
    const { le, ...rest } = all;
    if (!hasLabels(rest, labels)) continue;
    if (metricName === `${name}_bucket` && le !== undefined) {
      const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
      byLe.set(bound, (byLe.get(bound) ?? 0) + value);
    } else if (metricName === `${name}_count`) count += value;
    else if (metricName === `${name}_sum`) sum += value;
  }
  const buckets = [...byLe]
    .map(([le, bucketCount]) => ({ le, count: bucketCount }))
    .sort((a, b) => a.le - b.le);
  return { buckets, count, sum };
}

/** What was observed between two readings of one histogram (a reset: everything since). */
export function histogramDelta(before: HistogramReading, after: HistogramReading): HistogramReading {
  if (after.count < before.count) return after;
  const earlier = new Map(before.buckets.map((bucket) => [bucket.le, bucket.count]));
  return {
    buckets: after.buckets.map(({ le, count }) => ({
      le,
      count: Math.max(0, count - (earlier.get(le) ?? 0)),
    })),
    count: after.count - before.count,
    sum: after.sum - before.sum,
  };
}

/**
 * The q-quantile (0 ≤ q ≤ 1) estimated from cumulative buckets, as Prometheus' histogram_quantile:
 * find the bucket the rank falls in and interpolate linearly inside it (the first bucket starts at 0).
 * A rank in the +Inf bucket answers the highest finite bound. Null when nothing was observed.
 */
export function quantileOf(q: number, buckets: readonly Bucket[]): number | null {
  if (Number.isNaN(q) || q < 0 || q > 1) throw new RangeError(`quantile ${q} is not within 0..1`);
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const last = sorted.at(-1);
  if (!last || last.le !== Number.POSITIVE_INFINITY || last.count === 0) return null;
  const rank = q * last.count;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [index, bucket] of sorted.entries()) {
    if (bucket.count >= rank && bucket.count > lowerCount) {
      if (bucket.le === Number.POSITIVE_INFINITY) return sorted[index - 1]?.le ?? null;
      if (index === 0 && bucket.le <= 0) return bucket.le;
      return lowerBound + (bucket.le - lowerBound) * ((rank - lowerCount) / (bucket.count - lowerCount));
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return sorted.at(-2)?.le ?? null;
}
