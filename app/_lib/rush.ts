// The Rush hour lab's arithmetic, apart from the drawing: chart lines from samples (exact figures from
// the orders the lab placed; bucket estimates only where it has none, and labelled so), the backlog's
// drain rate and ETA, the words above the charts, and runs laid side by side on one time axis. The
// words and the charts read the same numbers, so they cannot disagree.
import {
  type BACKLOG_STATES,
  backlogOf,
  type CheckoutMode,
  type QueueBound,
  type QueueJobState,
  queueBound,
  type RunView,
  type RushSample,
  SERVICES,
  SIDE_EFFECT_STEPS,
  type SideEffectStep,
  STEPS,
  totalBacklog,
  totalWaiting,
  waitingOf,
} from "@/server/contract";
import { MODE_COLORS, shade } from "./colors";

/** One colour per queue (readable on white, told apart without colour names). */
export const QUEUE_COLORS: Record<SideEffectStep, string> = {
  fraud: "#b3261e",
  email: "#3867a8",
  analytics: "#8f5a0e",
  fulfillment: "#2f5d50",
  cancellationEmail: "#7a4fa3",
  saleReversal: "#5f646b",
};
export const STATE_COLORS: Record<(typeof BACKLOG_STATES)[number], string> = {
  waiting: "#3867a8",
  running: "#2f5d50",
  waiting_for_provider: "#e3a34a",
  delayed: "#b3261e",
};

export const QUANTILES = ["p50", "p95", "p99"] as const;
export type Quantile = (typeof QUANTILES)[number];

/** A run's quantiles in its mode's colour: the median darkest and solid, the tail lighter and dashed. */
export function quantileStyle(mode: CheckoutMode, quantile: Quantile): { color: string; dash?: number[] } {
  const base = MODE_COLORS[mode];
  if (quantile === "p50") return { color: base };
  if (quantile === "p95") return { color: shade(base, 0.3), dash: [6, 4] };
  return { color: shade(base, 0.5), dash: [2, 3] };
}

/** Jobs in one state at a sample, over every queue. */
export function jobsIn(sample: RushSample, state: QueueJobState): number {
  return SIDE_EFFECT_STEPS.reduce((sum, step) => sum + (sample.queues[step]?.jobs[state] ?? 0), 0);
}

export function queueLabel(step: SideEffectStep): string {
  return STEPS[step].label;
}

/** The three timings the lab charts. */
export type Timing = "answerMs" | "doneMs" | "catalogMs";

export interface TimingLine {
  label: string;
  quantile: Quantile;
  /** Read off histogram buckets (drawn dashed and thin, labelled "≈ … (from buckets)"). */
  estimate: boolean;
  values: (number | null)[];
}

/** What a timing chart draws. Exact figures from the orders the lab placed, each second's own; the
 * shop's histogram buckets only for what the lab cannot see: a run saved before it kept its figures,
 * or (time to done) the orders it did not follow, when it followed only a sample of them. */
export function timingLines(run: RunView, timing: Timing, quantiles: readonly Quantile[]): TimingLine[] {
  const samples = run.samples;
  const exact = samples.some((sample) => sample.measured !== null);
  const exactLines = quantiles.map((quantile) => ({
    label: quantile,
    quantile,
    estimate: false,
    values: samples.map((sample) => sample.measured?.[timing]?.[quantile] ?? null),
  }));
  const estimateLines = quantiles.map((quantile) => ({
    label: `≈ ${quantile} (from buckets)`,
    quantile,
    estimate: true,
    values: samples.map((sample) => sample[timing]?.[quantile] ?? null),
  }));
  if (!exact) return estimateLines;
  return timing === "doneMs" && followedSome(run) ? [...exactLines, ...estimateLines] : exactLines;
}

/** The load process followed only a sample of its orders to done (the rest are in the buckets). */
function followedSome(run: RunView): boolean {
  const summary = run.summary;
  return summary !== null && summary.doneMs.measured < summary.placed;
}

/** Seconds the drain rate is averaged over: one second alone is too jumpy to predict from. */
const RATE_WINDOW = 5;

/** Side-effect queues whose every job makes one job of `step` (fulfillment: fraud screening, each
 * passed order is shipped). Compensations are left out: only a rejection makes one. */
function feedersOf(step: SideEffectStep): SideEffectStep[] {
  return SIDE_EFFECT_STEPS.filter((other) => {
    const definition = STEPS[step];
    return definition.phase === "sideEffect" && definition.after === other;
  });
}

export interface DrainEstimate {
  step: SideEffectStep;
  /** Jobs that wait (for a consumer, the provider or a retry). */
  waiting: number;
  /** Jobs at work now. */
  running: number;
  /** Jobs the queues upstream will still make for this one (fraud screening's, for fulfillment). */
  toCome: number;
  /** The queues those come from. */
  from: SideEffectStep[];
  /** Jobs finished per second lately. */
  perSecond: number;
  /** When the last of them will be done: (waiting + running + to come) ÷ perSecond, and never before
   * the queues upstream are done; null while nothing drains. */
  seconds: number | null;
}

/** For each queue with work left at the last sample (or still to come): how fast it drains and when
 * it will be empty. */
export function drainEstimates(samples: readonly RushSample[]): DrainEstimate[] {
  const last = samples.at(-1);
  if (!last) return [];
  const recent = samples.slice(-RATE_WINDOW);
  const byStep = new Map<SideEffectStep, DrainEstimate>();
  const estimate = (step: SideEffectStep): DrainEstimate => {
    const known = byStep.get(step);
    if (known) return known;
    const feeders = feedersOf(step).map(estimate);
    const toCome = feeders.reduce((sum, feeder) => sum + feeder.waiting + feeder.running + feeder.toCome, 0);
    const waiting = waitingOf(last, step);
    const running = backlogOf(last, step) - waiting;
    const perSecond =
      recent.reduce((sum, sample) => sum + (sample.queues[step]?.donePerSecond ?? 0), 0) / recent.length;
    const left = waiting + running + toCome;
    const upstream = feeders.filter((feeder) => feeder.waiting + feeder.running + feeder.toCome > 0);
    const own = perSecond > 0 ? left / perSecond : null;
    const seconds =
      own === null || upstream.some((feeder) => feeder.seconds === null)
        ? null
        : Math.max(own, ...upstream.map((feeder) => feeder.seconds ?? 0));
    const result = {
      step,
      waiting,
      running,
      toCome,
      from: upstream.map((feeder) => feeder.step),
      perSecond,
      seconds,
    };
    byStep.set(step, result);
    return result;
  };
  return SIDE_EFFECT_STEPS.map(estimate).filter((queue) => queue.waiting + queue.running + queue.toCome > 0);
}

export interface DrainBound extends QueueBound {
  step: SideEffectStep;
  /** Jobs finished per second over the last seconds (up to RATE_WINDOW) it had jobs waiting: when
   * its consumers had work enough to reach the bound. */
  perSecond: number;
  /** Consumers of the queue over every worker process (its knob, else WORKER_CONCURRENCY). */
  consumers: number;
}

/** Per queue that had jobs waiting during an async run: its drain rate against what its consumers and
 * providers allow. Empty for a sync run (the side effects ran in the requests, not from queues) and
 * for a run saved before the lab kept the providers' knobs. */
export function drainBounds(run: RunView): DrainBound[] {
  const { services, workerConcurrency, shop, workerProcesses, load } = run.settings;
  if (load.mode !== "async" || services === null) return [];
  return SIDE_EFFECT_STEPS.flatMap((step) => {
    const backlogged = run.samples.filter((sample) => waitingOf(sample, step) > 0).slice(-RATE_WINDOW);
    const perProcess = shop.consumers[step] ?? workerConcurrency;
    if (backlogged.length === 0 || perProcess === null) return [];
    const perSecond =
      backlogged.reduce((sum, sample) => sum + (sample.queues[step]?.donePerSecond ?? 0), 0) /
      backlogged.length;
    const consumers = perProcess * workerProcesses;
    return [{ step, perSecond, consumers, ...queueBound(step, services, consumers) }];
  });
}

/** A queue's drain against its bound in words: "Receipt email: 41/s of 48/s possible with 24
 * consumers at 500 ms". */
export function drainBoundWords(bound: DrainBound): string {
  const consumers = `${formatCount(bound.consumers)} ${bound.consumers === 1 ? "consumer" : "consumers"}`;
  const inFlight = bound.cappedBy
    ? `${formatCount(bound.inFlight)} calls at once (the ${SERVICES[bound.cappedBy].title.toLowerCase()}'s limit; ${consumers})`
    : consumers;
  const latency =
    bound.calls.length > 1
      ? `${formatMs(bound.latencyMs)} (${bound.calls.map((call) => `${SERVICES[call.service].label.toLowerCase()} ${formatMs(call.latencyMs)}`).join(" + ")})`
      : formatMs(bound.latencyMs);
  const name = queueLabel(bound.step);
  if (bound.boundPerSecond === null) {
    return `${name}: ${formatRate(bound.perSecond)} with ${inFlight}; its providers answer at once, so no bound from latency`;
  }
  return `${name}: ${formatRate(bound.perSecond)} of ${formatRate(bound.boundPerSecond)} possible with ${inFlight} at ${latency}`;
}

/** Orders placed and done per second over the same seconds: the last RATE_WINDOW while a run goes,
 * else the seconds orders came in. Null for a run saved before the lab counted orders done. */
export function orderRates(
  samples: readonly RushSample[],
  live: boolean,
): { placed: number; done: number; from: number; to: number; lastDoneAt: number | null } | null {
  if (!samples.some((sample) => sample.ordersDonePerSecond !== null)) return null;
  const start = live
    ? Math.max(0, samples.length - RATE_WINDOW)
    : samples.findIndex((sample) => sample.checkoutsPerSecond > 0);
  const end = live ? samples.length : samples.findLastIndex((sample) => sample.checkoutsPerSecond > 0) + 1;
  const window = start < 0 ? [] : samples.slice(start, end);
  if (window.length === 0) return null;
  const mean = (pick: (sample: RushSample) => number) =>
    window.reduce((sum, sample) => sum + pick(sample), 0) / window.length;
  const lastDone = samples.findLast((sample) => (sample.ordersDonePerSecond ?? 0) > 0);
  return {
    placed: mean((sample) => sample.checkoutsPerSecond),
    done: mean((sample) => sample.ordersDonePerSecond ?? 0),
    from: samples[start - 1]?.t ?? 0,
    to: window.at(-1)?.t ?? 0,
    lastDoneAt: lastDone?.t ?? null,
  };
}

/** Orders placed against orders done, in words, so a growing backlog is not read as throughput. */
export function orderRatesWords(samples: readonly RushSample[], live: boolean): string | null {
  const rates = orderRates(samples, live);
  if (!rates) return null;
  const figures = `${formatRate(rates.placed)} placed, ${formatRate(rates.done)} done (every side effect finished)`;
  const behind = rates.done < rates.placed ? ": orders not done yet pile up" : "";
  if (live) return `Orders, last ${Math.round(rates.to - rates.from)} s: ${figures}${behind}.`;
  const last =
    rates.lastDoneAt === null ? "" : ` The last order was done at ${Math.round(rates.lastDoneAt)} s.`;
  return `Orders while they came in (${Math.round(rates.from)}–${Math.round(rates.to)} s): ${figures}.${last}`;
}

/** The highest value of a figure over the samples, and when (null: none). */
export function peakOf(
  samples: readonly RushSample[],
  pick: (sample: RushSample) => number,
): { value: number; t: number } | null {
  let peak: { value: number; t: number } | null = null;
  for (const sample of samples) {
    const value = pick(sample);
    if (value > 0 && (peak === null || value > peak.value)) peak = { value, t: sample.t };
  }
  return peak;
}

/** The run's backlog in words, from the same samples the charts draw: what waits now, or how high it
 * rose and when it was gone. */
export function backlogStory(samples: readonly RushSample[]): string | null {
  const last = samples.at(-1);
  if (!last || totalWaiting(last) > 0) return null; // the queues are listed one by one instead
  const peak = peakOf(samples, totalWaiting);
  const running = totalBacklog(last);
  const now = running > 0 ? `No job waits now (${formatCount(running)} running).` : "No job waits now.";
  if (!peak) return `No backlog: no job had to wait during this run. ${running > 0 ? now : ""}`.trim();
  const emptied = samples.find((sample) => sample.t > peak.t && totalWaiting(sample) === 0);
  return (
    `${now} The backlog peaked at ${formatCount(peak.value)} ${peak.value === 1 ? "job" : "jobs"} waiting ` +
    `${formatSecond(peak.t)}${emptied ? ` and was gone ${formatSecond(emptied.t)}` : ""}.`
  );
}

/** The web tier's request slots in words (null: no limit was set during the run): while the run goes,
 * how many are in use and how many requests wait now; afterwards, how busy they got. */
export function slotStory(samples: readonly RushSample[], live = true): string | null {
  const last = samples.at(-1);
  const limit = Math.max(0, ...samples.map((sample) => sample.requestSlotLimit));
  if (!last || limit === 0) return null;
  const peakWaiting = peakOf(samples, (sample) => sample.requestsWaitingForSlot);
  const busiest = peakOf(samples, (sample) => sample.requestSlotsInUse);
  const now = live
    ? `Request slots: ${formatCount(last.requestSlotsInUse)} of ${formatCount(last.requestSlotLimit)} in use, ` +
      `${formatCount(last.requestsWaitingForSlot)} ${last.requestsWaitingForSlot === 1 ? "request" : "requests"} waiting for one.`
    : `Request slots: ${formatCount(limit)}, at most ${formatCount(busiest?.value ?? 0)} in use at once.`;
  if (!live && !peakWaiting) return `${now} No request had to wait for a slot.`;
  if (!peakWaiting) {
    return `${now} No request had to wait for a slot${busiest ? ` (at most ${formatCount(busiest.value)} in use)` : ""}.`;
  }
  return `${now} At most ${formatCount(peakWaiting.value)} waited for a slot, ${formatSecond(peakWaiting.t)}.`;
}

function formatSecond(t: number): string {
  return `at ${Math.round(t)} s`;
}

/** Runs on one axis (seconds since each run's start), one value per run per second. */
export function alignRuns(
  runs: readonly RunView[],
  pick: (sample: RushSample) => number | null,
): { x: number[]; values: (number | null)[][] } {
  const seconds = new Set<number>();
  for (const run of runs) for (const sample of run.samples) seconds.add(Math.round(sample.t));
  const x = [...seconds].sort((a, b) => a - b);
  const values = runs.map((run) => {
    const byT = new Map(run.samples.map((sample) => [Math.round(sample.t), pick(sample)]));
    return x.map((t) => byT.get(t) ?? null);
  });
  return { x, values };
}

export function formatMs(ms: number): string {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function formatRate(perSecond: number): string {
  return `${perSecond < 10 ? perSecond.toFixed(1) : Math.round(perSecond).toLocaleString("en")}/s`;
}

/** A count with thousands separators: "12,345". */
export function formatCount(count: number): string {
  return Math.round(count).toLocaleString("en");
}

/** A run's headline figures. Timings over the whole run come from the load process's summary: exact,
 * over every order it placed (nearest rank), not a worst second read off buckets. */
export function runFigures(run: RunView) {
  const samples = run.samples;
  let answered = 0;
  let refused = 0;
  samples.forEach((sample, index) => {
    const seconds = sample.t - (samples[index - 1]?.t ?? 0);
    answered += sample.checkoutsPerSecond * seconds;
    refused += sample.refusedPerSecond * seconds;
  });
  const duration = samples.at(-1)?.t ?? 0;
  const backlogs = samples.map(totalBacklog);
  const peakNotDone = Math.max(0, ...backlogs);
  const peakAt = backlogs.indexOf(peakNotDone);
  const drained =
    peakNotDone > 0 ? samples.find((_sample, index) => index > peakAt && backlogs[index] === 0) : undefined;
  const consumers = new Set(Object.values(run.settings.shop.consumers));
  const summary = run.summary;
  return {
    workerProcesses: run.settings.workerProcesses,
    /** The same count for every queue (as the experiments set it), else "mixed". */
    consumers: consumers.size === 1 ? String([...consumers][0] ?? "default") : "mixed",
    requestSlots: run.settings.shop.requestSlots,
    /** Placed orders, as the load process counted them (else from the shop's per-second rates). */
    placed: summary?.placed ?? answered,
    // The load process's own rate (placed ÷ its time): a run's length also covers the backlog's drain.
    perSecond: summary?.ordersPerSecond ?? (duration > 0 ? answered / duration : 0),
    /** Orders done per second over the same window, as the load process counted them (null: unknown). */
    donePerSecond: summary?.donePerSecond ?? null,
    refused,
    answerP95: summary?.answerMs.p95 ?? null,
    doneP95: summary?.doneMs.p95 ?? null,
    catalogP95: summary?.catalogMs.p95 ?? null,
    /** Most jobs waiting at once (running ones are not a backlog). */
    peakWaiting: peakOf(samples, totalWaiting)?.value ?? 0,
    /** Most requests waiting for a request slot at once. */
    peakSlotWaiting: peakOf(samples, (sample) => sample.requestsWaitingForSlot)?.value ?? 0,
    drainedAfterS: drained ? drained.t : null,
  };
}
