// The Rush hour run of the developer console: the web process starts the load process (the same program
// as `npm run load`) as a child, samples the shop's own metrics once a second while it runs, and saves
// the run when it ends. An experiment is a plan of runs, each with its own knobs, run one after another;
// the knobs are put back as they were afterwards. One run at a time in the whole deployment (a lock in
// Redis), so two consoles cannot double the load by accident.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import type { Result } from "ioredis";
import { loadCommand } from "../../tools/load/entry";
import { config, isLoopback } from "../config";
import {
  AppError,
  consumersForAll,
  EXPERIMENTS,
  type ExperimentName,
  jsonOrNull,
  type LoadPlan,
  type LoadProgressEvent,
  type LoadRequest,
  loadEventSchema,
  loadSettingsSchema,
  planLabel,
  RUSH_STOCK,
  type RunView,
  type ServiceName,
  type Settings,
  type SettingsPatch,
  totalBacklog,
} from "../contract";
import { prisma } from "../db";
import { getSettings, updateSettings } from "../downstream/settings";
import { errorReporter } from "../log";
import { liveWorkers } from "../metrics/workers";
import { defineScript, redis, redisKey } from "../redis";
import { Measurements } from "./measured";
import { Sampler } from "./sample";
import { saveRun } from "./saved";

const LOCK_TTL_MS = 15_000;
const KILL_AFTER_MS = 10_000;
/** A load process still running this long after its own duration is stopped (it follows its orders
 * to done for up to two minutes after the last answer, tools/load/runner.ts). */
const OVERRUN_MS = 180_000;
const SHUTDOWN_WAIT_MS = 15_000;
/** Renew or release the lock only while it is still ours (it may have expired and been taken). */
const RENEW_IF_OURS = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) end return 0`;
const RELEASE_IF_OURS = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end return 0`;
defineScript("renewRushLock", RENEW_IF_OURS, 1);
defineScript("releaseRushLock", RELEASE_IF_OURS, 1);

declare module "ioredis" {
  interface RedisCommander<Context> {
    renewRushLock(lock: string, owner: string, ttlMs: number): Result<number, Context>;
    releaseRushLock(lock: string, owner: string): Result<number, Context>;
  }
}
const SAMPLE_EVERY_MS = 1_000;
/** How long a run follows its backlog after the load ended, at most. */
const DRAIN_CAP_MS = 120_000;
/** The end of the load process's stderr kept to explain a failed run. */
const STDERR_KEPT = 2_000;

interface PlannedRun {
  label: string;
  load: LoadPlan;
  /** Knobs set before this run (an experiment's); none for a run started by hand. */
  knobs: SettingsPatch | null;
}

interface Plan {
  experiment: ExperimentName | null;
  runs: PlannedRun[];
}

export interface RushState {
  /** A run or an experiment is going on (between an experiment's runs too). */
  busy: boolean;
  /** The load process is done; the run follows the backlog until it drains. */
  draining: boolean;
  run: RunView | null;
  /** The load process's own last progress line (its view of answers, from the shoppers' side). */
  progress: LoadProgressEvent | null;
  /** Which run of an experiment this is (1-based), and of how many. */
  step: { index: number; of: number } | null;
}

let state: RushState = { busy: false, draining: false, run: null, progress: null, step: null };
let child: ChildProcess | null = null;
/** The load process said "started": its signal handler is in place, so a stop still gets its summary. */
let childListening = false;
let stopRequested = false;
/** Settles when the plan going on has ended (knobs back, runs saved). */
let planDone: Promise<unknown> = Promise.resolve();

export function rushState(): RushState {
  return state;
}

/** Worker processes alive now (each lists itself in Redis). */
export async function workerProcesses(): Promise<number> {
  return (await liveWorkers().catch(() => [])).length;
}

function lockKey(): string {
  return redisKey("rush", "lock");
}

/** Starts a run by hand. Refused while another run is going on (here or in another web process). */
export async function startRun(request: LoadRequest): Promise<void> {
  const load = planFor(request);
  await begin({ experiment: null, runs: [{ label: planLabel(load), load, knobs: null }] });
}

export async function startExperiment(name: ExperimentName): Promise<void> {
  const runs = EXPERIMENTS[name].runs.map((run) => ({
    label: run.label,
    load: planFor(run.load),
    knobs: {
      services: run.services,
      shop: { requestSlots: run.shop.requestSlots, consumers: consumersForAll(run.shop.consumers) },
    },
  }));
  await begin({ experiment: name, runs });
}

/** Stops the run going on (the load process prints its summary and the run is saved as stopped), and
 * any runs of its experiment still to come. */
export function stopRun(): boolean {
  if (!state.busy) return false;
  stopRequested = true;
  // No load process yet (between runs, or before its "started" line): it is signalled when it listens,
  // or never started.
  if (child && childListening) terminate(child);
  return true;
}

/** SIGTERM (the load process prints its summary and exits), SIGKILL if it has not gone 10 s later. */
function terminate(load: ChildProcess): void {
  load.kill("SIGTERM");
  setTimeout(() => {
    if (load.exitCode === null && load.signalCode === null) load.kill("SIGKILL");
  }, KILL_AFTER_MS).unref();
}

/** For the web process's shutdown: stops the rush going on and waits (a while) for its knobs to be put
 * back and its run saved. */
export async function stopRushForShutdown(): Promise<void> {
  if (!stopRun()) return;
  await Promise.race([planDone, sleep(SHUTDOWN_WAIT_MS)]);
}

async function begin(plan: Plan): Promise<void> {
  if (state.busy) throw busy();
  const owner = randomUUID();
  const locked = await redis("command").set(lockKey(), owner, "PX", LOCK_TTL_MS, "NX");
  if (locked !== "OK") throw busy();
  stopRequested = false;
  state = { ...state, busy: true };
  const keepLock = setInterval(() => {
    redis("command").renewRushLock(lockKey(), owner, LOCK_TTL_MS).catch(errorReporter("rush lock"));
  }, LOCK_TTL_MS / 3);
  const unlock = async () => {
    clearInterval(keepLock);
    try {
      await redis("command").releaseRushLock(lockKey(), owner);
    } finally {
      state = { ...state, busy: false };
    }
  };
  // Answers once the first run's load process is on its way (or could not be started).
  await new Promise<void>((resolve, reject) => {
    planDone = carryOut(plan, resolve)
      .then(resolve, (error: unknown) => {
        errorReporter("rush")(error instanceof Error ? error : new Error(String(error)));
        reject(error);
      })
      .finally(() => unlock().catch(errorReporter("rush lock")));
  });
}

function busy(): AppError {
  return new AppError("ALREADY_RUNNING", "A rush is already running. Stop it first, or wait for it to end.");
}

async function carryOut(plan: Plan, started: () => void): Promise<void> {
  const restore = restoringPatch(await getSettings(), plan);
  try {
    for (const [index, planned] of plan.runs.entries()) {
      if (stopRequested) break;
      if (planned.knobs) await updateSettings(planned.knobs);
      await runOnce(planned, plan.experiment, { index: index + 1, of: plan.runs.length }, started);
    }
  } finally {
    started(); // in case no run got as far as its load process
    if (restore) await updateSettings(restore);
  }
}

/** The knobs the plan's runs change, as they were: put back afterwards, and nothing else (a change made
 * in /dev meanwhile to another knob stays). */
function restoringPatch(before: Settings, plan: Plan): SettingsPatch | null {
  const touched = plan.runs.flatMap((run) => (run.knobs ? [run.knobs] : []));
  if (touched.length === 0) return null;
  const services = new Set(touched.flatMap((knobs) => Object.keys(knobs.services ?? {}))) as Set<ServiceName>;
  return {
    services: Object.fromEntries([...services].map((name) => [name, before.services[name]])),
    shop: touched.some((knobs) => knobs.shop) ? before.shop : undefined,
  };
}

/** The request aimed at this web process (the only target the console's load may have). */
function planFor(request: LoadRequest): LoadPlan {
  const wildcard = config.HOST === "0.0.0.0" || config.HOST === "::";
  const host = wildcard || isLoopback(config.HOST) ? "127.0.0.1" : config.HOST;
  const shown = host.includes(":") ? `[${host}]` : host;
  return loadSettingsSchema.parse({
    request,
    target: `http://${shown}:${config.PORT}`,
    allowRemote: !wildcard && !isLoopback(config.HOST),
  });
}

async function runOnce(
  planned: PlannedRun,
  experiment: ExperimentName | null,
  step: RushState["step"],
  started: () => void,
) {
  await restockForRush();
  const settings = await getSettings();
  const sampler = await Sampler.start();
  const run: RunView = {
    id: randomUUID(),
    label: planned.label,
    experiment,
    status: "running",
    settings: {
      load: planned.load,
      shop: settings.shop,
      workerProcesses: await workerProcesses(),
      services: settings.services,
      // The web process's own; the worker processes of one deployment share its environment.
      workerConcurrency: config.WORKER_CONCURRENCY,
    },
    samples: [],
    summary: null,
    problem: null,
    startedAt: new Date().toISOString(),
    endedAt: null,
  };
  state = { busy: true, draining: false, run, progress: null, step };

  const { command, args, cwd } = loadCommand(planned.load);
  const load = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  child = load;
  childListening = false;
  started();
  const overrun = setTimeout(() => terminate(load), planned.load.durationMs + OVERRUN_MS);

  let stderr = "";
  load.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_KEPT);
  });
  // Every figure the load process took, order by order: the charts' exact percentiles.
  let measurements: Measurements | null = null;
  const lines = createInterface({ input: load.stdout });
  lines.on("line", (line) => {
    const event = loadEventSchema.safeParse(jsonOrNull(line));
    if (!event.success) return;
    if (event.data.type === "started") {
      childListening = true;
      measurements = new Measurements(Date.parse(event.data.startedAt) - sampler.startedAt);
      if (stopRequested) terminate(load);
    }
    if (event.data.type === "measured") measurements?.add(event.data);
    if (event.data.type === "progress") state = { ...state, progress: event.data };
    if (event.data.type === "summary") run.summary = event.data;
  });
  let exitCode: number | null = null;
  let exited = false;
  load.once("close", (code: number | null) => {
    // "close", not "exit": after its last line (the summary) was read.
    exitCode = code;
    exited = true;
    clearTimeout(overrun);
  });
  load.once("error", (error) => {
    // Could not be started (or signalled): the run fails with the reason.
    stderr += `\n${error.message}`;
    exited = true;
    clearTimeout(overrun);
  });

  // A sample each second while the load runs, then on while its backlog drains (that is part of the
  // picture: how long the queues take to empty), up to DRAIN_CAP_MS after the load ended.
  let drainingSince: number | null = null;
  for (;;) {
    await sleep(SAMPLE_EVERY_MS);
    // Whether the load had ended before this sample's scrape began (its `t`): only such a sample is
    // later than the load's last figures, so only one lets the run end (an earlier one left the
    // figures of its last moments out of every second).
    const endedBefore = exited;
    const sample = await sampler.next().catch((error: unknown) => {
      errorReporter("rush sampler")(error instanceof Error ? error : new Error(String(error)));
      return null;
    });
    if (sample) {
      run.samples.push(sample);
      withMeasured(run, measurements);
    }
    if (!endedBefore) continue;
    // Done: nothing queued, and no request in flight (a checkout the load process stopped waiting for
    // at its end still runs in the shop; it counts once it has answered).
    if (stopRequested || (sample && totalBacklog(sample) === 0 && sample.requestsInFlight === 0)) break;
    drainingSince ??= Date.now();
    state = { ...state, draining: true };
    if (Date.now() - drainingSince > DRAIN_CAP_MS) {
      run.problem = `The backlog had not drained ${DRAIN_CAP_MS / 1000} s after the load ended; stopped following it.`;
      break;
    }
  }
  child = null;
  withMeasured(run, measurements);

  run.endedAt = new Date().toISOString();
  run.status = stopRequested ? "stopped" : exitCode === 0 ? "finished" : "failed";
  if (run.status === "failed")
    run.problem = lastLine(stderr) ?? `the load process exited with code ${exitCode}`;
  state = { ...state, draining: false, run: { ...run } };
  await saveRun(run);
}

/** Each second's exact figures, worked out again from every figure so far (late ones included). */
function withMeasured(run: RunView, measurements: Measurements | null): void {
  if (!measurements) return;
  const seconds = measurements.bySecond(run.samples);
  run.samples = run.samples.map((sample, index) => ({ ...sample, measured: seconds[index] ?? null }));
}

/** A rush sells hundreds of items a second; the shop's shelves hold a few hundred in all. Each run tops
 * every product up to RUSH_STOCK first, so it measures checkouts rather than empty shelves (and so does
 * `npm run load -- --restock`, through dev.rush.restock). Answers how many products it topped up. */
export async function restockForRush(): Promise<number> {
  const { count } = await prisma.product.updateMany({
    where: { stock: { lt: RUSH_STOCK } },
    data: { stock: RUSH_STOCK },
  });
  return count;
}

function lastLine(text: string): string | null {
  return (
    text
      .trim()
      .split("\n")
      .filter((line) => line.trim())
      .at(-1) ?? null
  );
}
