// The Rush hour lab's arithmetic, apart from the drawing: chart lines from samples, the backlog's
// drain rate and ETA, and runs laid side by side on one time axis.
import {
  type BACKLOG_STATES,
  backlogOf,
  type QueueJobState,
  type RunView,
  type RushSample,
  SIDE_EFFECT_STEPS,
  type SideEffectStep,
  STEPS,
  totalBacklog,
} from "@/server/contract";

/** One colour per queue, and per compared run (readable on white, told apart without colour names). */
export const QUEUE_COLORS: Record<SideEffectStep, string> = {
  fraud: "#b3261e",
  email: "#3867a8",
  analytics: "#8f5a0e",
  fulfillment: "#2f5d50",
  cancellationEmail: "#7a4fa3",
  saleReversal: "#5f646b",
};
export const RUN_COLORS = ["#2f5d50", "#b3261e", "#3867a8", "#8f5a0e"];
export const QUANTILE_COLORS = { p50: "#2f5d50", p95: "#e3a34a", p99: "#b3261e" };
export const STATE_COLORS: Record<(typeof BACKLOG_STATES)[number], string> = {
  waiting: "#3867a8",
  running: "#2f5d50",
  waiting_for_provider: "#e3a34a",
  delayed: "#b3261e",
};

/** Jobs in one state at a sample, over every queue. */
export function jobsIn(sample: RushSample, state: QueueJobState): number {
  return SIDE_EFFECT_STEPS.reduce((sum, step) => sum + (sample.queues[step]?.jobs[state] ?? 0), 0);
}

export function queueLabel(step: SideEffectStep): string {
  return STEPS[step].label;
}

/** Seconds the drain rate is averaged over: one second alone is too jumpy to predict from. */
const RATE_WINDOW = 5;

export interface DrainEstimate {
  step: SideEffectStep;
  backlog: number;
  /** Jobs finished per second lately. */
  perSecond: number;
  /** backlog ÷ perSecond, or null while nothing drains. */
  seconds: number | null;
}

/** For each queue with work left at the last sample: how fast it drains and when it will be empty. */
export function drainEstimates(samples: readonly RushSample[]): DrainEstimate[] {
  const last = samples.at(-1);
  if (!last) return [];
  const recent = samples.slice(-RATE_WINDOW);
  return SIDE_EFFECT_STEPS.flatMap((step) => {
    const backlog = backlogOf(last, step);
    if (backlog === 0) return [];
    const perSecond =
      recent.reduce((sum, sample) => sum + (sample.queues[step]?.donePerSecond ?? 0), 0) / recent.length;
    return [{ step, backlog, perSecond, seconds: perSecond > 0 ? backlog / perSecond : null }];
  });
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
  return `${perSecond < 10 ? perSecond.toFixed(1) : Math.round(perSecond)}/s`;
}

export function formatCount(count: number): string {
  return String(Math.round(count));
}

/** A run's headline figures, from its samples. */
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
  const worst = (pick: (sample: RushSample) => number | null | undefined) =>
    samples.reduce<number | null>((most, sample) => {
      const value = pick(sample);
      return value === null || value === undefined ? most : Math.max(most ?? value, value);
    }, null);
  const backlogs = samples.map(totalBacklog);
  const peakBacklog = Math.max(0, ...backlogs);
  const peakAt = backlogs.indexOf(peakBacklog);
  const drained =
    peakBacklog > 0 ? samples.find((_sample, index) => index > peakAt && backlogs[index] === 0) : undefined;
  const consumers = new Set(Object.values(run.settings.shop.consumers));
  return {
    workerProcesses: run.settings.workerProcesses,
    /** The same count for every queue (as the experiments set it), else "mixed". */
    consumers: consumers.size === 1 ? String([...consumers][0] ?? "default") : "mixed",
    requestSlots: run.settings.shop.requestSlots,
    answered,
    // The load process's own rate (placed ÷ its time): a run's length also covers the backlog's drain.
    perSecond: run.summary?.ordersPerSecond ?? (duration > 0 ? answered / duration : 0),
    refused,
    worstAnswerP95: worst((sample) => sample.answerMs?.p95),
    worstCatalogP95: worst((sample) => sample.catalogMs?.p95),
    worstDoneP95: worst((sample) => sample.doneMs?.p95),
    peakBacklog,
    drainedAfterS: drained ? drained.t : null,
  };
}
