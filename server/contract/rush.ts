// The Rush hour lab (/dev/rush): a load run's per-second samples, saved runs, and the three
// experiments that show the article's load claims. The load itself comes from the load process
// (npm run load, settings in ./load); the samples are read from the processes' /metrics.
import { z } from "zod";
import { BACKLOG_STATES, queueJobStateSchema } from "./jobs";
import {
  describeArrivals,
  type LoadPlan,
  type LoadRequest,
  loadPlanSchema,
  loadSummaryEventSchema,
} from "./load";
import { MODES } from "./orders";
import {
  healthyService,
  type Settings,
  type ShopCapacity,
  settingsSchema,
  shopCapacitySchema,
} from "./services";
import { SIDE_EFFECT_STEPS, type SideEffectStep, sideEffectStepSchema } from "./steps";

const quantiles = z.object({ p50: z.number(), p95: z.number(), p99: z.number() }).nullable();

/** Percentiles of every figure of one kind the lab took in a second (nearest rank: exact), and how
 * many figures that was. */
const exactQuantiles = z.object({
  count: z.number().int(),
  p50: z.number(),
  p95: z.number(),
  p99: z.number(),
});
export type ExactQuantiles = z.infer<typeof exactQuantiles>;

/** One second as the load process saw it, order by order (server/rush/measured.ts). */
const measuredSecond = z.object({
  /** Time to answer of the orders answered in this second, from the click. */
  answerMs: exactQuantiles.nullable(),
  /** Time to done, from the click, of the orders done in this second (those the run followed). */
  doneMs: exactQuantiles.nullable(),
  /** The catalog calls (product.list) that ended in this second. */
  catalogMs: exactQuantiles.nullable(),
});
export type MeasuredSecond = z.infer<typeof measuredSecond>;

const queueSample = z.object({
  /** Jobs by state, as the storefront_queue_jobs gauge counts them. */
  jobs: z.record(queueJobStateSchema, z.number()),
  /** Attempts finished per second, any outcome: the drain rate. */
  donePerSecond: z.number(),
});

/** One second of a run, as the charts draw it. Rates and quantiles cover the second before `t`. */
export const rushSampleSchema = z.object({
  /** Seconds since the run started. */
  t: z.number(),
  checkoutsPerSecond: z.number(),
  /** Orders done per second: settled, every side effect finished (the shop's time-to-done histogram
   * counts each once). Null: a run saved before the lab counted them. */
  ordersDonePerSecond: z.number().nullable().default(null),
  refusedPerSecond: z.number(),
  /** Exact figures from the orders the lab placed (null: a run saved before the lab kept them). The
   * three below are estimates from the shop's histogram buckets, drawn only where these are missing. */
  measured: measuredSecond.nullable().default(null),
  /** Time to answer a checkout (ms), estimated from the histogram's buckets. */
  answerMs: quantiles,
  /** Time to done: order placed → last side effect finished (ms), estimated from buckets. */
  doneMs: quantiles,
  /** Time to answer product.list (ms), estimated from buckets. */
  catalogMs: quantiles,
  requestsInFlight: z.number(),
  requestSlotsInUse: z.number(),
  /** The request-slot pool's size (0: no limit), and requests waiting in line for a slot. */
  requestSlotLimit: z.number().default(0),
  requestsWaitingForSlot: z.number().default(0),
  // Partial: a queue added since a run was saved is missing from its samples.
  queues: z.partialRecord(sideEffectStepSchema, queueSample),
});
export type RushSample = z.infer<typeof rushSampleSchema>;

export const RUN_STATUSES = ["running", "finished", "stopped", "failed"] as const;
export const runStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof runStatusSchema>;

/** What a run was asked to do, and the shop it ran against. */
export const runSettingsSchema = z.object({
  load: loadPlanSchema,
  shop: shopCapacitySchema,
  /** Worker processes alive when the run started (each runs `consumers` jobs per queue). */
  workerProcesses: z.number().int(),
  /** The providers' knobs when the run started, and WORKER_CONCURRENCY (a queue's consumers when its
   * knob is unset): what the drain rate is held against. Null: a run saved before the lab kept them. */
  services: settingsSchema.shape.services.nullable().default(null),
  workerConcurrency: z.number().int().nullable().default(null),
});
export type RunSettings = z.infer<typeof runSettingsSchema>;

export const runViewSchema = z.object({
  id: z.string(),
  label: z.string(),
  experiment: z.string().nullable(),
  status: runStatusSchema,
  settings: runSettingsSchema,
  samples: z.array(rushSampleSchema),
  /** The load process's own summary (its view from the shoppers' side). */
  summary: loadSummaryEventSchema.nullable(),
  problem: z.string().nullable(),
  startedAt: z.iso.datetime(),
  endedAt: z.iso.datetime().nullable(),
});
export type RunView = z.infer<typeof runViewSchema>;

export const runRefInput = z.object({ runId: z.string().min(1).max(64) });
export const compareRunsInput = z.object({ runIds: z.array(z.string().min(1).max(64)).min(1).max(4) });

/** One run of an experiment: its load, the shop's capacity, and the services' knobs. */
interface ExperimentRun {
  label: string;
  load: LoadRequest;
  /** Request slots (0: no limit), and consumers for every queue (null: WORKER_CONCURRENCY). */
  shop: { requestSlots: ShopCapacity["requestSlots"]; consumers: number | null };
  services: Settings["services"];
}

interface Experiment {
  label: string;
  /** What it shows, in the article's words. */
  explains: string;
  /** One sentence: what to look at while it runs. */
  lookAt: string;
  runs: ExperimentRun[];
}

// Every service is set in full (up, no failures): a knob left down or flaky in /dev must not change
// what an experiment shows.

/** Slow but healthy dependencies for the first experiment: payment is quick, email is slow. */
const SLOW_EMAIL: Settings["services"] = {
  inventory: healthyService(10, 2),
  payment: healthyService(50, 10),
  fraud: healthyService(300, 50),
  email: healthyService(1_500, 200),
  analytics: healthyService(100, 20),
  shipping: healthyService(400, 50),
};

/** Quick dependencies, so a backlog drains in seconds; email serves at most 8 calls at once. */
const QUICK_PROVIDERS: Settings["services"] = {
  inventory: healthyService(5, 1),
  payment: healthyService(20, 5),
  fraud: healthyService(100, 20),
  email: healthyService(150, 30, 8),
  analytics: healthyService(50, 10),
  shipping: healthyService(150, 30),
};

const pileUpLoad = (mode: LoadRequest["mode"]): LoadRequest => ({
  shoppers: 30,
  pause: 1_000,
  duration: 20_000,
  mode,
});
/** The run follows the backlog after the burst was answered (server/rush/manager.ts), so the drain is
 * part of the picture. */
const BURST: LoadRequest = { burst: 150, duration: 60_000, mode: "async" };

export const EXPERIMENTS = {
  "threads-pile-up": {
    label: "Threads pile up",
    explains:
      "The web tier gets 16 request slots, like a thread pool. Sync checkouts hold theirs while they wait for a slow email provider, the slots run out and the catalog slows down or is refused for everyone: temporal coupling turns one slow dependency into a platform-wide incident. The same load in async mode leaves browsing fast.",
    lookAt:
      "Catalog latency and slots in use: sync fills all 16 slots and browsing waits; async barely uses them.",
    runs: [
      {
        label: "Sync, 16 request slots",
        load: pileUpLoad("sync"),
        shop: { requestSlots: 16, consumers: null },
        services: SLOW_EMAIL,
      },
      {
        label: "Async, 16 request slots",
        load: pileUpLoad("async"),
        shop: { requestSlots: 16, consumers: null },
        services: SLOW_EMAIL,
      },
    ],
  },
  backlog: {
    label: "Backlog",
    explains:
      "A burst of 150 orders against one consumer per queue. Every checkout still answers fast; the queues fill up and drain at the consumers' pace, so how long an order takes to be done depends on how many messages are waiting.",
    lookAt: "Queue depth rising and falling, time to done growing with it, and the ETA: depth ÷ drain rate.",
    runs: [
      {
        label: "Burst, 1 consumer per queue",
        load: BURST,
        shop: { requestSlots: 0, consumers: 1 },
        services: QUICK_PROVIDERS,
      },
    ],
  },
  "scale-consumers": {
    label: "Scale consumers",
    explains:
      "The same burst three times, with 1, 4 and 16 consumers per queue. Drain time shrinks in proportion until the provider is the limit: the email provider serves 8 calls at once, so 16 email consumers are no faster than 8.",
    lookAt:
      "Drain time per run in the comparison below, and the email queue's jobs waiting for the provider at 16 consumers.",
    runs: [1, 4, 16].map((consumers) => ({
      label: `Burst, ${consumers} consumer${consumers === 1 ? "" : "s"} per queue`,
      load: BURST,
      shop: { requestSlots: 0, consumers },
      services: QUICK_PROVIDERS,
    })),
  },
} as const satisfies Record<string, Experiment>;

export type ExperimentName = keyof typeof EXPERIMENTS;
export const experimentNameSchema = z.enum(Object.keys(EXPERIMENTS) as [ExperimentName, ...ExperimentName[]]);

/** Stock every product is topped up to before a run (a rush would empty the shelves in seconds). */
export const RUSH_STOCK = 5_000;

/** Jobs that wait (a backlog is jobs waiting, not jobs at work): in line for a consumer, for a free
 * call of their provider, or for their retry. */
export const WAITING_STATES = [
  "waiting",
  "waiting_for_provider",
  "delayed",
] as const satisfies readonly (typeof BACKLOG_STATES)[number][];

/** Jobs of a queue that wait at a sample (running ones aside). */
export function waitingOf(sample: RushSample, step: SideEffectStep): number {
  const jobs = sample.queues[step]?.jobs;
  return jobs ? WAITING_STATES.reduce((sum, state) => sum + jobs[state], 0) : 0;
}

export function totalWaiting(sample: RushSample): number {
  return SIDE_EFFECT_STEPS.reduce((sum, step) => sum + waitingOf(sample, step), 0);
}

/** Jobs of a queue not done yet at a sample: waiting, running, waiting for the provider or a retry. */
export function backlogOf(sample: RushSample, step: SideEffectStep): number {
  const jobs = sample.queues[step]?.jobs;
  return jobs ? BACKLOG_STATES.reduce((sum, state) => sum + jobs[state], 0) : 0;
}

export function totalBacklog(sample: RushSample): number {
  return SIDE_EFFECT_STEPS.reduce((sum, step) => sum + backlogOf(sample, step), 0);
}

/** A run's name from its plan: "Async: 20 shoppers, pause 1s, for 20s". */
export function planLabel(plan: LoadPlan): string {
  return `${MODES[plan.mode].label}: ${describeArrivals(plan)}`;
}

/** The same consumer count for every queue, as the experiments set it. */
export function consumersForAll(count: number | null): Record<SideEffectStep, number | null> {
  return Object.fromEntries(SIDE_EFFECT_STEPS.map((step) => [step, count])) as Record<
    SideEffectStep,
    number | null
  >;
}
