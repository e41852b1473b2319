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
// failure and Ctrl+C (tools/lib/supervisor.ts: each in a process group of its own). A process the
// schedule did not kill that dies ends the soak with a message naming it; so does its time limit.
//
//   npm run chaos -- --minutes 3
//   npm run chaos -- --seconds 90 --faults pg-crash=6 --seed 7    # six Postgres crashes, schedule 7
import * as fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import getPort from "get-port";
import { z } from "zod";
import { migrate } from "../../scripts/migrate";
import type { CheckoutMode } from "../../server/contract";
import { findNginx, nginxArgs, writeNginxConfig } from "../cluster/nginx";
import { writeBaseline } from "../invariants/read";
import { flagTable, readCommandLine, refuseAs } from "../lib/flags";
import { PrivatePostgres, runQuietly } from "../lib/private-postgres";
import { PrivateRedis, redisServerAvailable } from "../lib/private-redis";
import { PrivateRedisCluster } from "../lib/private-redis-cluster";
import { GaveUp, type Program, reasonOf, Supervisor } from "../lib/supervisor";
import { type Fault, faultActions, type Injected } from "./faults";
import { printBrokenOff, printFaults, printLoad, printOrders, printRedrives } from "./report";
import {
  DEFAULT_CLUSTER_FAULTS,
  DEFAULT_FAULTS,
  FAULT_KINDS,
  faultsSchema,
  planFaults,
  redisShapeProblem,
} from "./schedule";
import {
  CHAOS_PREFIX,
  devCall,
  healthy,
  LOAD_END_GRACE_MS,
  LOST_ANSWERS,
  logSays,
  nodeProgram,
  runChecker,
  Service,
  SHOPPERS,
  SOAK_SERVICES,
  SOAK_STOCK,
  SOAK_TIMING,
  setStock,
  startLoad,
} from "./soak";

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
    flagTable(["minutes", "seconds", "settle", "faults", "seed"], ["keep", "redis-cluster"]),
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
  const nginxPath =
    findNginx("pipe") ?? refuse("nginx is not installed and could not be (scripts/ensure-nginx.sh)");
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

const elapsed = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

async function main(): Promise<number> {
  const { loadMs, settleS, keep, faults: faultCounts, seed, nginxPath, redisCluster } = readFlags();
  // Startup, the load, its end, the checker's settle wait, and room for the checker and the faults' own
  // restarts: past this the soak gives up. So it does when a process it started dies on its own.
  const supervisor = new Supervisor("chaos", {
    cwd: ROOT,
    limitMs: loadMs + LOAD_END_GRACE_MS + settleS * 1000 + 10 * 60_000,
  });
  const say = (line: string) => supervisor.say(line);
  const pause = (ms: number) => supervisor.pause(ms);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "storefront-chaos-"));
  const logs = path.join(dir, "logs");
  fs.mkdirSync(logs);
  const postgres = new PrivatePostgres(dir, await getPort());
  // One redis-server with its append-only file, or a Redis Cluster (every node with its own).
  const cluster = redisCluster ? new PrivateRedisCluster(path.join(dir, "redis-cluster")) : null;
  const redisServer = cluster ? null : new PrivateRedis(await getPort(), path.join(dir, "redis"));
  const oneRedis = () => {
    if (!redisServer) throw new Error("this fault needs the one redis-server (no --redis-cluster)");
    return redisServer;
  };
  const loads: Program[] = [];
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

    const webPorts = [await getPort(), await getPort()];
    const webs = webPorts.map(
      (port, index) =>
        new Service(
          supervisor,
          `web-${index + 1}`,
          nodeProgram("server/main.ts"),
          { ...env, PORT: `${port}` },
          path.join(logs, `web-${index + 1}.log`),
          () => healthy(port),
        ),
    );
    const workers = [1, 2].map((number) => {
      const log = path.join(logs, `worker-${number}.log`);
      return new Service(
        supervisor,
        `worker-${number}`,
        nodeProgram("workers/index.ts"),
        env,
        log,
        async (from) => logSays(log, from, "storefront worker: relay running"),
      );
    });
    await Promise.all([...webs, ...workers].map((service) => service.start()));
    const adminPort = () => webPorts[webs.findIndex((web) => web.alive)] ?? webPorts[0] ?? 0;
    const applyKnobs = () => devCall(adminPort(), "dev.updateSettings", { services: SOAK_SERVICES });
    await applyKnobs();

    // nginx in front, as users meet the shop: the load goes through it, and a killed web process's
    // shoppers are sent to the other one.
    const nginxDir = path.join(dir, "nginx");
    fs.mkdirSync(path.join(nginxDir, "temp"), { recursive: true });
    const nginxPort = await getPort();
    const nginxConfig = await writeNginxConfig({
      dir: nginxDir,
      host: "127.0.0.1",
      port: nginxPort,
      webPorts,
    });
    const nginxLog = path.join(logs, "nginx.log");
    const nginxArgv: [string, ...string[]] = [nginxPath, ...nginxArgs(nginxDir, nginxConfig)];
    const nginx = new Service(supervisor, "nginx", nginxArgv, env, nginxLog, () => healthy(nginxPort));
    await nginx.start();
    say(
      `private Postgres, ${cluster ? "Redis Cluster (3 primaries, 3 replicas, append-only)" : "Redis (append-only)"}, ` +
        `nginx, 2 web, 2 workers ready in ${elapsed(startedAt)}`,
    );

    const inject = faultActions({ webs, workers, postgres, cluster, redisServer, adminPort, applyKnobs });
    const faults: Fault[] = planFaults(faultCounts, seed).map(({ at, kind, target }) => ({
      at,
      ...inject[kind](target),
    }));

    const target = `http://127.0.0.1:${nginxPort}`;
    const loadStart = Date.now();
    const summaries = (Object.keys(SHOPPERS) as CheckoutMode[]).map((mode) => {
      const load = startLoad(supervisor, mode, target, loadMs, env, path.join(logs, `load-${mode}.log`));
      loads.push(load.program);
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
      supervisor.signal.throwIfAborted();
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
    printRedrives(workers.map((worker) => worker.log));
    // A process the schedule did not kill that died on its own (a crash the faults caused) has ended
    // the soak already: the supervisor gave up, naming it.
    code = await runChecker(supervisor, env, baseline, settleS);
    const answersKept = await printOrders(databaseUrl, loadEnded);
    if (!answersKept) code = 1;
    say(code === 0 ? "every invariant held" : "INVARIANTS VIOLATED (see the tables above)");
    return code;
  } catch (error) {
    // A wait cut short by Ctrl+C says only "aborted": name the signal (or the process that died) instead.
    console.error(`chaos: ${reasonOf(supervisor.signal, error)}`);
    const reason: unknown = supervisor.signal.reason;
    code = reason instanceof GaveUp && reason.why === "signal" ? 130 : 1;
    return code;
  } finally {
    await Promise.allSettled(loads.map((load) => load.crash()));
    await supervisor.stopAll();
    await Promise.allSettled([cluster?.stop(), redisServer?.kill(), postgres.stop()]);
    if (code === 0 && !keep) fs.rmSync(dir, { recursive: true, force: true });
    else say(`kept ${dir} (logs in ${logs})`);
  }
}

process.exit(await main());
