// `npm run chaos -- --minutes N`: a chaos soak on private infrastructure. Starts its own PostgreSQL
// cluster (tools/lib/private-postgres.ts) and redis-server with an append-only file (tools/lib/private-redis.ts),
// migrates and seeds them, runs 2 production web processes behind nginx and 2 worker processes, and
// drives one load process per checkout mode (`npm run load -- --json`) through nginx, as shoppers come
// in, while a fault schedule (tools/chaos/schedule.ts: `--faults KIND=COUNT,...`, drawn from `--seed`)
// kills and restarts workers and web processes, restarts Redis (keeping its append-only file, or losing
// everything), crashes Postgres (it recovers from its write-ahead log) and pauses a queue. After the
// load, `npm run check:invariants` waits for the orders to settle and judges the database; the soak
// prints the faults, the load, the orders per mode and status, how many checkouts broke off after their
// confirmation had committed (the path a Postgres crash reaches), and the invariant table, and exits
// with the checker's code (0: all held).
// Bad input exits 2 before anything starts; every process it started is stopped at the end, also on
// failure and Ctrl+C (each child runs in a process group of its own, stopped in a `finally`).
//
//   npm run chaos -- --minutes 3
//   npm run chaos -- --seconds 90 --faults pg-crash=6 --seed 7    # six Postgres crashes, schedule 7
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import * as fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { z } from "zod";
import { migrate } from "../../scripts/migrate";
import {
  BROKE_OFF_AFTER_CONFIRM,
  type CheckoutMode,
  type LoadSummaryEvent,
  loadEventSchema,
  REDROVE_SIDE_EFFECT,
  type SettingsPatch,
  type SideEffectStep,
} from "../../server/contract";
import { queuePrefixFor } from "../../server/redis-target";
import { nginxArgs, writeNginxConfig } from "../cluster/nginx";
import { writeBaseline } from "../invariants/read";
import { readCommandLine, refuseAs } from "../lib/flags";
import { PrivatePostgres, runQuietly } from "../lib/private-postgres";
import { freePort, PrivateRedis, redisServerAvailable } from "../lib/private-redis";
import { PrivateRedisCluster } from "../lib/private-redis-cluster";
import { callProcedure, keepAliveAgent } from "../load/http";
import {
  DEFAULT_CLUSTER_FAULTS,
  DEFAULT_FAULTS,
  FAULT_KINDS,
  faultsSchema,
  type PlannedFault,
  planFaults,
  redisShapeProblem,
} from "./schedule";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const MAX_MINUTES = 10;
/** Shorter than this leaves no room between the faults for the shop to recover. */
const MIN_SECONDS = 30;

const USAGE = `usage: npm run chaos -- (--minutes N | --seconds N) [--redis-cluster] [--faults KIND=COUNT,...] [--seed N] [--settle SECONDS] [--keep]
  --minutes N: load and faults for N minutes (at most ${MAX_MINUTES}); --seconds N: the same in seconds (at least ${MIN_SECONDS})
  --redis-cluster: a Redis Cluster of 3 primaries and 3 replicas instead of one redis-server
  --faults: how many of each fault, e.g. pg-crash=6,redis-kill=2,worker-kill=3,web-kill=2 (default ${DEFAULT_FAULTS};
      with --redis-cluster ${DEFAULT_CLUSTER_FAULTS})
${Object.entries(FAULT_KINDS)
  .map(([kind, what]) => `      ${kind.padEnd(12)} ${what}`)
  .join("\n")}
  --seed N: the schedule's seed (default: a new one, printed); the same seed and faults give the same schedule
  --settle: how long the invariant checker waits for orders to settle after the load (default 60)
  --keep: keep the soak's directory (databases, logs) even when every invariant held
  Needs the production build (npm run build), Debian's PostgreSQL server binaries, redis-server and nginx.`;

const flagsSchema = z
  .strictObject({
    minutes: z.coerce
      .number({ error: "--minutes takes a number" })
      .positive("--minutes must be more than 0")
      .max(MAX_MINUTES, `--minutes can be at most ${MAX_MINUTES}`)
      .optional(),
    seconds: z.coerce
      .number({ error: "--seconds takes a whole number" })
      .int("--seconds takes a whole number")
      .min(MIN_SECONDS, `--seconds must be at least ${MIN_SECONDS}`)
      .max(MAX_MINUTES * 60, `--seconds can be at most ${MAX_MINUTES * 60}`)
      .optional(),
    settle: z.coerce
      .number({ error: "--settle takes seconds" })
      .int("--settle takes whole seconds")
      .min(10, "--settle must be at least 10")
      .max(600, "--settle can be at most 600")
      .default(60),
    faults: faultsSchema.optional(),
    "redis-cluster": z.boolean().default(false),
    seed: z.coerce
      .number({ error: "--seed takes a whole number" })
      .int("--seed takes a whole number")
      .min(0, "--seed must be 0 or more")
      .max(2 ** 32 - 1, "--seed can be at most 4294967295")
      .optional(),
    keep: z.boolean().default(false),
    help: z.boolean().default(false),
  })
  .refine((flags) => flags.help || (flags.minutes === undefined) !== (flags.seconds === undefined), {
    message: "give the soak's length: --minutes N or --seconds N (one of them)",
  })
  .refine((flags) => !flags.minutes || flags.minutes * 60 >= MIN_SECONDS, {
    message: `--minutes must be at least ${MIN_SECONDS / 60} (${MIN_SECONDS} s)`,
  });

const refuse: (message: string) => never = refuseAs("chaos");

function readFlags() {
  const flags = readCommandLine(
    "chaos",
    {
      minutes: { type: "string" },
      seconds: { type: "string" },
      settle: { type: "string" },
      faults: { type: "string" },
      seed: { type: "string" },
      keep: { type: "boolean" },
      "redis-cluster": { type: "boolean" },
      help: { type: "boolean" },
    },
    flagsSchema,
    USAGE,
  );
  if (!fs.existsSync(path.join(ROOT, ".next", "BUILD_ID"))) {
    refuse("the web processes need the production build: run `npm run build` first");
  }
  if (!PrivatePostgres.available()) refuse("PostgreSQL's server binaries (initdb, pg_ctl) are not installed");
  if (!redisServerAvailable()) refuse("redis-server is not installed");
  const { minutes, seconds, settle, keep } = flags;
  const redisCluster = flags["redis-cluster"];
  const faults = flags.faults ?? faultsSchema.parse(redisCluster ? DEFAULT_CLUSTER_FAULTS : DEFAULT_FAULTS);
  const shapeProblem = redisShapeProblem(faults, redisCluster);
  if (shapeProblem) refuse(shapeProblem);
  const seed = flags.seed ?? Math.floor(Math.random() * 2 ** 32);
  const nginxPath = findNginx();
  return {
    loadMs: Math.round((seconds ?? (minutes ?? 0) * 60) * 1000),
    settleS: settle,
    keep,
    faults,
    seed,
    nginxPath,
    redisCluster,
  };
}

/** Found, or installed with apt-get (scripts/ensure-nginx.sh prints its path on its last line). */
function findNginx(): string {
  try {
    const found = execFileSync("bash", ["scripts/ensure-nginx.sh"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const nginxPath = found.toString().trim().split("\n").at(-1) ?? "";
    if (nginxPath) return nginxPath;
  } catch {
    // Said below.
  }
  return refuse("nginx is not installed and could not be (scripts/ensure-nginx.sh)");
}

/** Fast enough that a short soak places hundreds of orders, slow and flaky enough that side effects
 * overlap the faults, retry, and sometimes fail a synchronous checkout (compensated). */
const SOAK_SERVICES: SettingsPatch["services"] = {
  inventory: { latencyMs: 10, jitterMs: 5, failureRate: 0, down: false, capacity: 50 },
  payment: { latencyMs: 30, jitterMs: 15, failureRate: 0.02, down: false, capacity: 50 },
  fraud: { latencyMs: 40, jitterMs: 20, failureRate: 0.03, down: false, capacity: 50 },
  email: { latencyMs: 60, jitterMs: 30, failureRate: 0.03, down: false, capacity: 50 },
  analytics: { latencyMs: 10, jitterMs: 5, failureRate: 0.03, down: false, capacity: 50 },
  shipping: { latencyMs: 80, jitterMs: 40, failureRate: 0.03, down: false, capacity: 50 },
};

/** Shoppers per mode (closed loop, 250 ms pause); async ones watch their order over socket.io. */
const SHOPPERS: Record<CheckoutMode, number> = { async: 4, sync: 2, "sync-parallel": 2 };
/** The share of orders from a fraudster: cancelled by screening, their authorization voided. */
const FRAUD_SHARE = "10%";
/** The share of confirmations whose answer the web processes lose after the commit (CHAOS_LOST_ANSWERS). */
const LOST_ANSWERS = 0.05;
/** The soak's Redis namespace. */
const CHAOS_PREFIX = "storefront-chaos";
/** redis-primary-lose: the queue whose primary dies, and how long it acknowledges writes alone first. */
const LOSSY_QUEUE: SideEffectStep = "fraud";
const UNREPLICATED_MS = 500;
/** How long after its duration a load process may take to end: its answers in flight (30 s), then the
 * orders it follows to done (at most 120 s: tools/load/runner.ts), and some room. */
const LOAD_END_GRACE_MS = 180_000;
/** The queue the schedule pauses. */
const PAUSED_QUEUE: SideEffectStep = "email";
/** Far more than a soak sells: stock never runs out, so every shopper keeps buying. */
const SOAK_STOCK = 1_000_000;

/** The soak's settings for every web and worker process: faults are healed within seconds. */
const SOAK_TIMING = {
  /** An unfinished checkout is swept after this (the default 10 min would outlast the soak). */
  SWEEPER_GRACE_MS: "10000",
  /** A checkout is cut off after this, so that the grace above outlasts every one (server/config.ts). */
  CHECKOUT_DEADLINE_MS: "4000",
  RECONCILE_EVERY_MS: "2000",
  /** A killed worker's jobs are retried within about three times this. */
  WORKER_LOCK_MS: "3000",
};

/** Aborted by Ctrl+C or SIGTERM: every wait gives up, and the `finally` of main stops everything. */
const stop = new AbortController();

const elapsed = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

function say(line: string): void {
  console.info(`chaos: ${line}`);
}

/** A web, worker or nginx process in a process group of its own, its output appended to a log file. */
class Service {
  private child: ChildProcess | null = null;

  constructor(
    readonly name: string,
    /** The program and its arguments. */
    private readonly argv: readonly [string, ...string[]],
    private readonly env: NodeJS.ProcessEnv,
    readonly log: string,
    /** Whether the process serves yet, given where its log stood at start (polled until true, 90 s at most). */
    private readonly ready: (logFrom: number) => Promise<boolean>,
  ) {}

  async start(): Promise<void> {
    const logFrom = fs.existsSync(this.log) ? fs.statSync(this.log).size : 0;
    const output = fs.openSync(this.log, "a");
    const [program, ...args] = this.argv;
    this.child = spawn(program, args, {
      cwd: ROOT,
      env: this.env,
      detached: true,
      stdio: ["ignore", output, output],
    });
    fs.closeSync(output);
    const deadline = Date.now() + 90_000;
    while (!(await this.ready(logFrom))) {
      stop.signal.throwIfAborted();
      if (!this.alive) throw new Error(`${this.name} exited at start (see ${this.log})`);
      if (Date.now() > deadline) throw new Error(`${this.name} was not ready within 90 s (see ${this.log})`);
      await sleep(200, undefined, { signal: stop.signal });
    }
  }

  get alive(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL to the whole group: no goodbye, no drain, as a crashed machine. */
  async crash(): Promise<void> {
    await this.signal("SIGKILL", 10_000);
  }

  /** SIGTERM (the process drains), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    if (!(await this.signal("SIGTERM", 15_000))) await this.signal("SIGKILL", 5_000);
  }

  /** Signals the process group; whether the process exited within `ms`. */
  private async signal(signal: NodeJS.Signals, ms: number): Promise<boolean> {
    const child = this.child;
    if (!child?.pid || !this.alive) return true;
    try {
      process.kill(-child.pid, signal);
    } catch {
      return true;
    }
    const exited = await Promise.race([once(child, "exit").then(() => true), sleep(ms, false)]);
    if (exited) this.child = null;
    return exited;
  }
}

/** A TypeScript program of the project's, run as the shop's own scripts run it. */
function nodeProgram(entry: string): [string, ...string[]] {
  return [process.execPath, "--import", "tsx", entry];
}

/** GET /api/health answers 200. */
function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ host: "127.0.0.1", port, path: "/api/health", timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on("error", () => resolve(false));
    request.on("timeout", () => request.destroy());
  });
}

/** The worker printed its start line since `from`. */
function logSays(file: string, from: number, text: string): boolean {
  if (!fs.existsSync(file)) return false;
  const fd = fs.openSync(file, "r");
  try {
    const length = fs.fstatSync(fd).size - from;
    if (length <= 0) return false;
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, from);
    return buffer.toString("utf8").includes(text);
  } finally {
    fs.closeSync(fd);
  }
}

/** How long a developer-tools change is retried while the shop answers 503 (Redis still coming back:
 * the web process refuses such a change at once rather than wait). */
const DEV_CALL_RETRY_MS = 20_000;

/** One tRPC mutation of the developer tools on a web process, retried as an operator would while the
 * shop says it is unavailable. */
async function devCall(port: number, procedure: string, input: unknown): Promise<void> {
  const target = `http://127.0.0.1:${port}`;
  const agent = keepAliveAgent(target, 1);
  const giveUpAt = Date.now() + DEV_CALL_RETRY_MS;
  try {
    for (;;) {
      const reply = await callProcedure(target, procedure, {
        agent,
        kind: "mutation",
        input,
        timeoutMs: 10_000,
      });
      if (reply.status === 200) return;
      if (reply.status !== 503 || Date.now() > giveUpAt)
        throw new Error(`${procedure}: HTTP ${reply.status} ${reply.body.slice(0, 200)}`);
      await sleep(250);
    }
  } finally {
    agent.destroy();
  }
}

/** A load process for one mode; resolves its summary when it ends. */
function startLoad(
  mode: CheckoutMode,
  target: string,
  durationMs: number,
  env: NodeJS.ProcessEnv,
  log: string,
): { child: ChildProcess; summary: Promise<LoadSummaryEvent | null> } {
  const flags = ["--shoppers", `${SHOPPERS[mode]}`, "--pause", "250ms", "--duration", `${durationMs}ms`];
  // Some fraudsters, so cancellations and their compensation run under the faults too.
  flags.push("--fraud", FRAUD_SHARE);
  if (mode === "async") flags.push("--watch");
  const errors = fs.openSync(log, "a");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "tools/load/main.ts", ...flags, "--mode", mode, "--target", target, "--json"],
    { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", errors] },
  );
  fs.closeSync(errors);
  const summary = new Promise<LoadSummaryEvent | null>((resolve) => {
    let last: LoadSummaryEvent | null = null;
    const lines = child.stdout ? createInterface({ input: child.stdout }) : null;
    lines?.on("line", (line) => {
      fs.appendFileSync(log, `${line}\n`);
      if (!line.startsWith("{")) return;
      const parsed = loadEventSchema.safeParse(JSON.parse(line));
      if (parsed.success && parsed.data.type === "summary") last = parsed.data;
    });
    // "close", not "exit": the last lines (the summary) may still be in the pipe when it exits.
    child.on("close", () => resolve(last));
  });
  return { child, summary };
}

interface Fault {
  /** When, as a fraction of the load's length. */
  at: number;
  name: string;
  run: () => Promise<string>;
}

interface Injected {
  atS: number;
  name: string;
  outcome: string;
}

async function main(): Promise<number> {
  const { loadMs, settleS, keep, faults: faultCounts, seed, nginxPath, redisCluster } = readFlags();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stop.signal.aborted) return say("still stopping everything, please wait");
      say(`${signal}: stopping everything`);
      stop.abort(new Error(`stopped by ${signal}`));
    });
  }
  const pause = (ms: number) => sleep(ms, undefined, { signal: stop.signal });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "storefront-chaos-"));
  const logs = path.join(dir, "logs");
  fs.mkdirSync(logs);
  const postgres = new PrivatePostgres(dir, await freePort());
  // One redis-server with its append-only file, or a Redis Cluster (every node with its own).
  const cluster = redisCluster ? new PrivateRedisCluster(path.join(dir, "redis-cluster")) : null;
  const redisServer = cluster ? null : new PrivateRedis(await freePort(), path.join(dir, "redis"));
  const oneRedis = () => {
    if (!redisServer) throw new Error("this fault needs the one redis-server (no --redis-cluster)");
    return redisServer;
  };
  const services: Service[] = [];
  const loads: ChildProcess[] = [];
  let code = 1;
  say(`soak of ${loadMs / 1000} s in ${dir}`);
  const faultsFlag = Object.entries(faultCounts)
    .map(([kind, count]) => `${kind}=${count}`)
    .join(",");
  say(`fault schedule: --faults ${faultsFlag} --seed ${seed} (the same flags give the same schedule)`);
  try {
    const startedAt = Date.now();
    await postgres.create();
    await (cluster ?? oneRedis()).start();
    const databaseUrl = postgres.url("storefront");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...SOAK_TIMING,
      DATABASE_URL: databaseUrl,
      REDIS_URL: (cluster ?? oneRedis()).url,
      REDIS_PREFIX: CHAOS_PREFIX,
      NODE_ENV: "production",
      // The services' logs go to files the soak reads (a worker is ready when it says so): JSON, info.
      LOG_LEVEL: "info",
      LOG_FORMAT: "json",
      NEXT_TELEMETRY_DISABLED: "1",
      HOST: "127.0.0.1",
      DEV_TOOLS: "on",
      DEV_TOOLS_KEY: "",
      TRUST_PROXY: "off",
      WORKER_METRICS_PORT: "0",
      // One confirmation in twenty loses its answer after its commit, as a crash at that instant would:
      // the path where a queued order must stand, reached on purpose rather than by luck.
      CHAOS_LOST_ANSWERS: `${LOST_ANSWERS}`,
      // Four processes of 5 connections each stay well under what 2 cores serve.
      DATABASE_POOL_SIZE: "5",
      WORKER_CONCURRENCY: "20",
    };
    await migrate(databaseUrl);
    await runQuietly(process.execPath, ["--import", "tsx", "prisma/seed.ts"], { cwd: ROOT, env });
    await setStock(databaseUrl, SOAK_STOCK);
    const baseline = path.join(dir, "baseline.json");
    await writeBaseline(databaseUrl, baseline);

    const webPorts = [await freePort(), await freePort()];
    const webs = webPorts.map(
      (port, index) =>
        new Service(
          `web-${index + 1}`,
          nodeProgram("server/main.ts"),
          { ...env, PORT: `${port}` },
          path.join(logs, `web-${index + 1}.log`),
          () => healthy(port),
        ),
    );
    const workers = [1, 2].map((number) => {
      const log = path.join(logs, `worker-${number}.log`);
      return new Service(`worker-${number}`, nodeProgram("workers/index.ts"), env, log, async (from) =>
        logSays(log, from, "storefront worker: relay running"),
      );
    });
    services.push(...webs, ...workers);
    await Promise.all(services.map((service) => service.start()));
    const adminPort = () => webPorts[webs.findIndex((web) => web.alive)] ?? webPorts[0] ?? 0;
    const applyKnobs = () => devCall(adminPort(), "dev.updateSettings", { services: SOAK_SERVICES });
    await applyKnobs();

    // nginx in front, as users meet the shop: the load goes through it, and a killed web process's
    // shoppers are sent to the other one.
    const nginxDir = path.join(dir, "nginx");
    fs.mkdirSync(path.join(nginxDir, "temp"), { recursive: true });
    const nginxPort = await freePort();
    const nginxConfig = await writeNginxConfig({
      dir: nginxDir,
      host: "127.0.0.1",
      port: nginxPort,
      webPorts,
    });
    const nginxLog = path.join(logs, "nginx.log");
    const nginx = new Service("nginx", [nginxPath, ...nginxArgs(nginxDir, nginxConfig)], env, nginxLog, () =>
      healthy(nginxPort),
    );
    services.push(nginx);
    await nginx.start();
    say(
      `private Postgres, ${cluster ? "Redis Cluster (3 primaries, 3 replicas, append-only)" : "Redis (append-only)"}, ` +
        `nginx, 2 web, 2 workers ready in ${elapsed(startedAt)}`,
    );

    const oneCluster = () => {
      if (!cluster) throw new Error("this fault needs --redis-cluster");
      return cluster;
    };
    /** SIGKILLs a primary (after `unreplicatedMs` of writes its replica never got, if any), waits for its
     * replica to take over, starts it again as a replica. */
    const killPrimary = async (port: number, unreplicatedMs: number, meanwhile?: () => Promise<unknown>) => {
      const failover = await oneCluster().killPrimary(port, { unreplicatedMs, meanwhile });
      const back = Date.now();
      await oneCluster().restart(failover.killed);
      // Writes the dead primary had not passed on are gone: the knobs may be among them.
      await applyKnobs();
      return (
        (unreplicatedMs > 0 ? `${unreplicatedMs} ms of writes its replica never got, ` : "") +
        `SIGKILL ${failover.killed}, replica ${failover.promoted} took over in ${(failover.ms / 1000).toFixed(1)} s; ` +
        `back as a replica after ${elapsed(back)}; knobs set again`
      );
    };
    const restart = async (service: Service | undefined) => {
      if (!service) throw new Error("no such process");
      await service.crash();
      const back = Date.now();
      await service.start();
      return `SIGKILL, restarted, serving again after ${elapsed(back)}`;
    };
    const inject: Record<
      PlannedFault["kind"],
      (target: number) => { name: string; run: () => Promise<string> }
    > = {
      "worker-kill": (target) => ({ name: `kill worker-${target}`, run: () => restart(workers[target - 1]) }),
      "web-kill": (target) => ({ name: `kill web-${target}`, run: () => restart(webs[target - 1]) }),
      "queue-pause": () => ({
        name: `pause queue ${PAUSED_QUEUE}`,
        run: async () => {
          await devCall(adminPort(), "dev.pauseQueue", { queue: PAUSED_QUEUE });
          return "paused (dev.pauseQueue)";
        },
      }),
      "queue-resume": () => ({
        name: `resume queue ${PAUSED_QUEUE}`,
        run: async () => {
          await devCall(adminPort(), "dev.resumeQueue", { queue: PAUSED_QUEUE });
          return "resumed (dev.resumeQueue)";
        },
      }),
      "redis-kill": () => ({
        name: "restart Redis, keeping its AOF",
        run: async () => {
          await oneRedis().kill();
          const back = Date.now();
          await oneRedis().start();
          return `SIGKILL, restarted from its append-only file in ${elapsed(back)}`;
        },
      }),
      "redis-primary-kill": (target) => ({
        name: "kill a Redis Cluster primary",
        run: async () => {
          // The primaries change with every failover: take the target-th of those alive now.
          const primaries = await oneCluster().primaries();
          const victim = primaries[(target - 1) % primaries.length];
          if (!victim) throw new Error("no live primary");
          return killPrimary(victim.port, 0);
        },
      }),
      "redis-primary-lose": () => ({
        name: `lose writes of the ${LOSSY_QUEUE} queue's primary`,
        run: async () => {
          // Every order's first side effect. With fast providers its jobs run at once (a lost record of a
          // job that ran is healed by the step's claim, not by a re-drive); paused for the window, the
          // jobs it takes wait there, as a backlog does in a rush, and are lost with the primary (so is
          // the pause itself; the resume after it is for a pause that survived).
          const key = `${queuePrefixFor({ kind: "cluster" }, CHAOS_PREFIX, LOSSY_QUEUE)}:${LOSSY_QUEUE}:wait`;
          const outcome = await killPrimary(await oneCluster().primaryOf(key), UNREPLICATED_MS, () =>
            devCall(adminPort(), "dev.pauseQueue", { queue: LOSSY_QUEUE }),
          );
          await devCall(adminPort(), "dev.resumeQueue", { queue: LOSSY_QUEUE });
          return `${outcome}; the ${LOSSY_QUEUE} queue paused during those writes`;
        },
      }),
      "pg-crash": () => ({
        name: "crash Postgres",
        run: async () => {
          const back = Date.now();
          await postgres.crash();
          return `pg_ctl stop -m immediate, started again (crash recovery) in ${elapsed(back)}`;
        },
      }),
      "redis-lose": () => ({
        name: "restart Redis, losing everything",
        run: async () => {
          await oneRedis().kill();
          oneRedis().forget();
          const back = Date.now();
          await oneRedis().start();
          // The knobs lived in Redis as well: the soak's are set again (the shop's defaults are slower).
          await applyKnobs();
          return `SIGKILL, append-only file deleted, empty again in ${elapsed(back)}; knobs set again`;
        },
      }),
    };
    const faults: Fault[] = planFaults(faultCounts, seed).map(({ at, kind, target }) => ({
      at,
      ...inject[kind](target),
    }));

    const target = `http://127.0.0.1:${nginxPort}`;
    const loadStart = Date.now();
    const summaries = (Object.keys(SHOPPERS) as CheckoutMode[]).map((mode) => {
      const load = startLoad(mode, target, loadMs, env, path.join(logs, `load-${mode}.log`));
      loads.push(load.child);
      return { mode, summary: load.summary };
    });
    say(
      `load started through nginx (${target}): ${Object.entries(SHOPPERS)
        .map(([mode, n]) => `${n} ${mode} shoppers`)
        .join(", ")}`,
    );

    const injected: Injected[] = [];
    for (const fault of faults) {
      const wait = loadStart + fault.at * loadMs - Date.now();
      if (wait > 0) await pause(wait);
      const atS = (Date.now() - loadStart) / 1000;
      const outcome = await fault.run();
      stop.signal.throwIfAborted();
      injected.push({ atS, name: fault.name, outcome });
      say(`[${atS.toFixed(1)} s] ${fault.name}: ${outcome}`);
    }

    const loadEnded = await Promise.race([
      Promise.all(summaries.map(async ({ mode, summary }) => ({ mode, summary: await summary }))),
      pause(Math.max(0, loadStart + loadMs - Date.now()) + LOAD_END_GRACE_MS).then(() => null),
    ]);
    if (!loadEnded) {
      throw new Error(
        `the load processes did not end within ${LOAD_END_GRACE_MS / 1000} s of their duration`,
      );
    }
    say(
      `load ended after ${elapsed(loadStart)}; checking invariants (waiting up to ${settleS} s for orders to settle)`,
    );

    printFaults(injected);
    printLoad(loadEnded);
    printBrokenOff(webs.map((web) => web.log));
    // A process the schedule did not kill must not have died on its own (a crash the faults caused).
    const died = services.filter((service) => !service.alive);
    for (const service of died)
      console.info(`DIED: ${service.name} exited on its own during the soak (see ${service.log})`);
    printRedrives(workers.map((worker) => worker.log));
    code = await runChecker(env, baseline, settleS, stop.signal);
    stop.signal.throwIfAborted();
    const answersKept = await printOrders(databaseUrl, loadEnded);
    if (!answersKept || died.length > 0) code = 1;
    say(code === 0 ? "every invariant held" : "INVARIANTS VIOLATED (see the tables above)");
    return code;
  } catch (error) {
    // A wait cut short by Ctrl+C says only "aborted": name the signal instead.
    const reason: unknown = stop.signal.aborted ? stop.signal.reason : error;
    console.error(`chaos: ${reason instanceof Error ? reason.message : String(reason)}`);
    code = stop.signal.aborted ? 130 : 1;
    return code;
  } finally {
    for (const load of loads) {
      if (load.pid && load.exitCode === null && load.signalCode === null) {
        try {
          process.kill(-load.pid, "SIGKILL");
        } catch {
          // Gone already.
        }
      }
    }
    await Promise.allSettled(services.map((service) => service.stop()));
    await Promise.allSettled([cluster?.stop(), redisServer?.kill(), postgres.stop()]);
    if (code === 0 && !keep) fs.rmSync(dir, { recursive: true, force: true });
    else say(`kept ${dir} (logs in ${logs})`);
  }
}

async function setStock(databaseUrl: string, stock: number): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`UPDATE "Product" SET "stock" = $1`, [stock]);
  } finally {
    await client.end();
  }
}

/** `npm run check:invariants` against the soak's database, its table on our stdout; its exit code. */
async function runChecker(
  env: NodeJS.ProcessEnv,
  baseline: string,
  settleS: number,
  signal: AbortSignal,
): Promise<number> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "tools/invariants/main.ts",
      "--baseline",
      baseline,
      "--jobs",
      "--settle-wait",
      `${settleS}`,
    ],
    { cwd: ROOT, env, stdio: ["ignore", "inherit", "inherit"], signal },
  );
  const [code] = (await once(child, "exit")) as [number | null];
  return code ?? 1;
}

function printFaults(injected: Injected[]): void {
  console.info("\nfaults injected:");
  for (const fault of injected) {
    console.info(`  ${`${fault.atS.toFixed(1)} s`.padStart(8)}  ${fault.name.padEnd(34)} ${fault.outcome}`);
  }
}

/** How many queued checkouts broke off after their confirmation had committed (a crash between the
 * commit and the answer): each order must stand, its side effects run, nothing undone. A soak that
 * never reached this path says so. */
function printBrokenOff(webLogs: string[]): void {
  const count = webLogs
    .filter((file) => fs.existsSync(file))
    .reduce((sum, file) => sum + fs.readFileSync(file, "utf8").split(BROKE_OFF_AFTER_CONFIRM).length - 1, 0);
  console.info(
    count > 0
      ? `checkouts broken off after their confirmation committed: ${count} (${LOST_ANSWERS * 100} % of answers lost on purpose, and crashes; each order stood, the invariants below judge them)`
      : "checkouts broken off after their confirmation committed: 0 (this soak never reached that path)",
  );
}

/** How many side effects the workers' reconcilers re-drove (their job lost with Redis' data, or ended
 * without finishing the step), over every worker process: each one's log says so, one line a re-drive. */
function printRedrives(workerLogs: string[]): void {
  const lines = workerLogs
    .filter((file) => fs.existsSync(file))
    .flatMap((file) => fs.readFileSync(file, "utf8").split("\n"))
    .filter((line) => line.includes(REDROVE_SIDE_EFFECT));
  const lost = lines.filter((line) => line.includes('"was":"unknown"')).length;
  console.info(
    `side effects the reconciler re-drove: ${lines.length} (${lost} whose job Redis had lost, ` +
      `${lines.length - lost} whose job ended without finishing the step); each still ran once (the invariants below)`,
  );
}

function printLoad(results: { mode: CheckoutMode; summary: LoadSummaryEvent | null }[]): void {
  console.info("\nload (per mode):");
  for (const { mode, summary } of results) {
    if (!summary) {
      console.info(`  ${mode.padEnd(14)} no summary (see its log)`);
      continue;
    }
    const errors = Object.entries(summary.errors)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(", ");
    console.info(
      `  ${mode.padEnd(14)} sent ${summary.sent}, placed ${summary.placed}, answer p50/p99 ` +
        `${summary.answerMs.p50 ?? "-"}/${summary.answerMs.p99 ?? "-"} ms` +
        (errors ? `, errors: ${errors}` : ""),
    );
  }
  console.info("");
}

/** Prints the orders per mode and status, and whether every order a shopper was told was placed is
 * still in the database after the crashes: each was confirmed (confirmedAt is written by the statement
 * the answer waits for), so a mode has at least as many confirmed orders as its load counted placed
 * (more when a kill cut an answer off after the confirmation). Returns false when one has fewer. */
async function printOrders(
  databaseUrl: string,
  loads: { mode: CheckoutMode; summary: LoadSummaryEvent | null }[],
): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ mode: string; status: string; count: string; confirmed: string }>(
      `SELECT "mode", "status", count(*) AS "count", count("confirmedAt") AS "confirmed"
       FROM "Order" GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    console.info("\norders per mode and status:");
    for (const row of rows) console.info(`  ${row.mode.padEnd(14)} ${row.status.padEnd(16)} ${row.count}`);
    const total = rows.reduce((sum, row) => sum + Number(row.count), 0);
    console.info(`  ${"all".padEnd(14)} ${"".padEnd(16)} ${total}\n`);

    console.info("answered orders kept (told placed ≤ confirmed in the database):");
    let kept = true;
    for (const { mode, summary } of loads) {
      const confirmed = rows
        .filter((row) => row.mode === mode)
        .reduce((sum, row) => sum + Number(row.confirmed), 0);
      const told = summary?.placed ?? 0;
      const held = confirmed >= told;
      kept &&= held;
      console.info(`  ${mode.padEnd(14)} told ${told}, confirmed ${confirmed}  ${held ? "held" : "LOST"}`);
    }
    console.info("");
    return kept;
  } finally {
    await client.end();
  }
}

process.exit(await main());
