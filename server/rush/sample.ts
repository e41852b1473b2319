// One second of a Rush hour run, read from the shop's own metrics: every process's /metrics summed
// (scrapeAll), and the difference from the previous second for rates and quantiles. The charts read
// the same numbers a Prometheus server would, not a second bookkeeping.
import { QUEUE_JOB_STATES, type QueueJobState, type RushSample, SIDE_EFFECT_STEPS } from "../contract";
import {
  type HistogramReading,
  histogramDelta,
  histogramOf,
  type Labels,
  quantileOf,
  seriesSum,
} from "../metrics/readings";
import { METRIC_NAMES } from "../metrics/registry";
import { type MergedMetrics, scrapeAll } from "../metrics/scrape";

export class Sampler {
  private constructor(
    private previous: MergedMetrics,
    /** When the first scrape was taken (ms since the epoch): a sample's `t` counts from here. */
    readonly startedAt: number,
  ) {}

  static async start(): Promise<Sampler> {
    const first = await scrapeAll();
    return new Sampler(first, first.at);
  }

  /** The second since the previous call. */
  async next(): Promise<RushSample> {
    const current = await scrapeAll();
    const sample = describeSecond(this.previous, current, this.startedAt);
    this.previous = current;
    return sample;
  }
}

/** What happened between two scrapes, as one sample. Counters and histograms are differenced per
 * process and then summed (a process missing from either scrape is left out of this second); gauges
 * are read from the later scrape. */
export function describeSecond(before: MergedMetrics, after: MergedMetrics, startedAt: number): RushSample {
  const pairs = after.perProcess.flatMap((later) => {
    const earlier = before.perProcess.find((process) => process.source === later.source);
    return earlier ? [{ earlier: earlier.metrics, later: later.metrics }] : [];
  });
  const increase = (name: string, labels: Labels = {}, sampleName = name) =>
    pairs.reduce((sum, { earlier, later }) => {
      const from = seriesSum(earlier, name, labels, sampleName);
      const to = seriesSum(later, name, labels, sampleName);
      return sum + (to >= from ? to - from : to); // lower: that process restarted
    }, 0);
  const observed = (name: string, labels: Labels = {}) =>
    sumHistograms(
      pairs.map(({ earlier, later }) =>
        histogramDelta(histogramOf(earlier, name, labels), histogramOf(later, name, labels)),
      ),
    );
  const seconds = Math.max(0.001, (after.at - before.at) / 1000);
  const gauge = (name: string, labels: Labels = {}) => seriesSum(after.metrics, name, labels);

  return {
    t: (after.at - startedAt) / 1000,
    checkoutsPerSecond: observed(METRIC_NAMES.checkoutAnswer, { outcome: "placed" }).count / seconds,
    // Each order is observed once, when it settles: every side effect finished.
    ordersDonePerSecond: observed(METRIC_NAMES.orderDone).count / seconds,
    refusedPerSecond:
      (observed(METRIC_NAMES.checkoutAnswer, { outcome: "refused" }).count +
        increase(METRIC_NAMES.requestsRefused)) /
      seconds,
    answerMs: quantilesMs(observed(METRIC_NAMES.checkoutAnswer, { outcome: "placed" })),
    doneMs: quantilesMs(observed(METRIC_NAMES.orderDone)),
    catalogMs: quantilesMs(observed(METRIC_NAMES.apiRequest, { procedure: "product.list" })),
    // Filled in by the lab from the load process's own figures (server/rush/measured.ts).
    measured: null,
    requestsInFlight: gauge(METRIC_NAMES.httpInFlight),
    requestSlotsInUse: gauge(METRIC_NAMES.requestSlotsInUse),
    requestSlotLimit: gauge(METRIC_NAMES.requestSlotsLimit),
    requestsWaitingForSlot: gauge(METRIC_NAMES.requestSlotsWaiting),
    queues: Object.fromEntries(
      SIDE_EFFECT_STEPS.map((step) => [
        step,
        {
          jobs: Object.fromEntries(
            QUEUE_JOB_STATES.map((state) => [state, gauge(METRIC_NAMES.queueJobs, { queue: step, state })]),
          ) as Record<QueueJobState, number>,
          donePerSecond:
            increase(METRIC_NAMES.stepDuration, { step }, `${METRIC_NAMES.stepDuration}_count`) / seconds,
        },
      ]),
    ) as RushSample["queues"],
  };
}

/** Histograms of several processes (same buckets) as one. */
function sumHistograms(readings: HistogramReading[]): HistogramReading {
  const byLe = new Map<number, number>();
  for (const reading of readings) {
    for (const bucket of reading.buckets) byLe.set(bucket.le, (byLe.get(bucket.le) ?? 0) + bucket.count);
  }
  return {
    buckets: [...byLe].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le),
    count: readings.reduce((sum, reading) => sum + reading.count, 0),
    sum: readings.reduce((sum, reading) => sum + reading.sum, 0),
  };
}

function quantilesMs(observed: HistogramReading): RushSample["answerMs"] {
  const at = (q: number) => {
    const seconds = quantileOf(q, observed.buckets);
    return seconds === null ? null : seconds * 1000;
  };
  const p50 = at(0.5);
  const p95 = at(0.95);
  const p99 = at(0.99);
  return p50 === null || p95 === null || p99 === null ? null : { p50, p95, p99 };
}
