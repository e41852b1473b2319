// One second of a Rush hour run, read from the shop's own metrics: every process's /metrics summed
// (scrapeAll), and the difference from the previous second for rates and quantiles. The charts read
// the same numbers a Prometheus server would, not a second bookkeeping.
import {
  QUEUE_JOB_STATES,
  type QueueJobState,
  type RushSample,
  SIDE_EFFECT_STEPS,
  type SideEffectStep,
} from "../contract";
import { METRIC_NAMES } from "../metrics/registry";
import { type MergedMetrics, scrapeAll } from "../metrics/scrape";
import {
  type HistogramReading,
  histogramDelta,
  histogramOf,
  type Labels,
  quantileOf,
  rateBetween,
  seriesSum,
} from "../metrics/text";

export class Sampler {
  private constructor(
    private previous: MergedMetrics,
    private readonly startedAt: number,
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

/** What happened between two scrapes, as one sample. Exported for the tests. */
export function describeSecond(before: MergedMetrics, after: MergedMetrics, startedAt: number): RushSample {
  const rate = (name: string, labels: Labels = {}, sampleName = name) =>
    rateBetween(
      { value: seriesSum(before.families, name, labels, sampleName), at: before.at },
      { value: seriesSum(after.families, name, labels, sampleName), at: after.at },
    );
  const observed = (name: string, labels: Labels = {}) =>
    histogramDelta(histogramOf(before.families, name, labels), histogramOf(after.families, name, labels));
  const placed = observed(METRIC_NAMES.checkoutAnswer, { outcome: "placed" });
  const gauge = (name: string, labels: Labels = {}) => seriesSum(after.families, name, labels);

  return {
    t: Math.round((after.at - startedAt) / 100) / 10,
    checkoutsPerSecond: perSecond(placed.count, before.at, after.at),
    refusedPerSecond:
      perSecond(observed(METRIC_NAMES.checkoutAnswer, { outcome: "refused" }).count, before.at, after.at) +
      rate(METRIC_NAMES.requestsRefused),
    answerMs: quantilesMs(placed),
    doneMs: quantilesMs(observed(METRIC_NAMES.orderDone)),
    catalogMs: quantilesMs(observed(METRIC_NAMES.apiRequest, { procedure: "product.list" })),
    requestsInFlight: gauge(METRIC_NAMES.httpInFlight),
    requestSlotsInUse: gauge(METRIC_NAMES.requestSlotsInUse),
    queues: Object.fromEntries(
      SIDE_EFFECT_STEPS.map((step) => [
        step,
        {
          jobs: Object.fromEntries(
            QUEUE_JOB_STATES.map((state) => [state, gauge(METRIC_NAMES.queueJobs, { queue: step, state })]),
          ) as Record<QueueJobState, number>,
          donePerSecond: rate(METRIC_NAMES.stepDuration, { step }, `${METRIC_NAMES.stepDuration}_count`),
        },
      ]),
    ) as Record<SideEffectStep, RushSample["queues"][SideEffectStep]>,
  };
}

function perSecond(count: number, from: number, to: number): number {
  return to > from ? count / ((to - from) / 1000) : 0;
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
