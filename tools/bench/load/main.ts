// Load benchmark of the real production processes. Builds if needed, starts a private PostgreSQL
// cluster and redis-server on free ports (in a temp dir, all deleted on exit), migrates and seeds them
// with the project's own commands, runs `npm start` (web + worker) against them, and drives
// `order.place` over HTTP with closed-loop shoppers (each with its own session cookie, no pause).
//
//   npm run bench:load                                   # every scenario, 3 runs of 15 s, medians
//   npm run bench:load -- --scenarios 1-async,32-async --runs 1 --duration 5 --no-build
//   npm run bench:load -- --scenarios 1-async --runs 1 --statements     # + where Postgres spends its time
//   npm run bench:load -- --json        # + one JSON object (every scenario's medians, the ratios) as the last line
//   npm run bench:load -- --scenarios 32-async --redis-cluster   # on a local Redis Cluster (3 + 3 nodes)
//
// Every target is a ratio of two figures from the same run (RATIOS below: async CPU ÷ sync CPU, async
// p50 ÷ the catalog read's p50 beside it, ...), which no machine can move. Beside the shoppers, one
// closed-loop catalog reader (`product.list`) measures the cheapest read the same server answers, in
// the same window. "done/s" counts orders whose side effects all finished inside the window; the drain
// rate (orders still moving at the window's end ÷ the time they took) is judged against its bound,
// what the consumers and providers allow (Little's law).
// Each scenario: warm-up, drain (no backlog leaks in), then `--duration` s measured. Orders/s counts
// answers inside the window; latencies cover every order started in it. CPU, statements and
// transactions per order cover [window start, all its orders completed], so async includes the
// worker's side effects. CPU is utime+stime+cutime+cstime from /proc over each process tree (the
// postmaster reaps its backends, so exited ones are not lost); statements come from
// pg_stat_statements (BEGIN/COMMIT excluded), transactions from pg_stat_database, the bench's own
// queries subtracted. Without root or PostgreSQL binaries it falls back to the shared servers
// (database storefront_bench_load, prefix storefront-bench-load), whose CPU includes other clients.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { z } from "zod";
import { loadConfig } from "../../../server/config";
import type { CheckoutMode, OrderStatus, ServiceName, SettingsPatch } from "../../../server/contract";
import {
  PLANNED_SIDE_EFFECTS,
  queueBound,
  queueName,
  SERVICE_NAMES,
  SIDE_EFFECT_STEPS,
  serviceSettingsSchema,
} from "../../../server/contract";
import { clientFor, queuePrefixFor, redisTarget } from "../../../server/redis-target";
import { readCommandLine } from "../../lib/flags";
import { PrivatePostgres, runQuietly } from "../../lib/private-postgres";
import { PrivateRedisCluster } from "../../lib/private-redis-cluster";
import { CookieJar, callProcedure, keepAliveAgent, type Reply } from "../../load/http";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const MAX_SHOPPERS = 500;
const MAX_SCENARIO_S = 600;
const PREFIX = "storefront-bench-load";
const FINAL_STATUSES: OrderStatus[] = ["completed", "cancelled", "failed"];
/** An idle backend may hold its transaction counts up to 10 s before publishing them to
 * pg_stat_database (PostgreSQL 15's PGSTAT_IDLE_INTERVAL), so counters are read after this. */
const STATS_SETTLE_MS = 10_500;
/** Jobs a worker runs at once per queue when the consumers knob does not say (the server's default). */
const WORKER_CONCURRENCY_DEFAULT = loadConfig(process.env).WORKER_CONCURRENCY;
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" })) || 100;

/** `consumers`: jobs the worker runs at once per queue (the /dev knob); without it, WORKER_CONCURRENCY
 * (50): 100 jobs/s per queue with 500 ms side effects. The scaled run gives each queue what a rush of
 * ~230 orders/s needs by Little's law (230 × 0.5 s ≈ 115 jobs in flight), with room to drain. */
const SCENARIOS = {
  "1-async": { shoppers: 1, mode: "async", slow: false },
  "1-sync": { shoppers: 1, mode: "sync", slow: false },
  "32-async": { shoppers: 32, mode: "async", slow: false },
  "100-async-slow": { shoppers: 100, mode: "async", slow: true },
  "100-async-slow-scaled": { shoppers: 100, mode: "async", slow: true, consumers: 200 },
  "100-sync-slow": { shoppers: 100, mode: "sync", slow: true },
} as const satisfies Record<
  string,
  { shoppers: number; mode: CheckoutMode; slow: boolean; consumers?: number }
>;
type ScenarioName = keyof typeof SCENARIOS;
const scenarioNames = Object.keys(SCENARIOS) as [ScenarioName, ...ScenarioName[]];

const optionsSchema = z
  .object({
    scenarios: z
      .string()
      .transform((list) => list.split(",").map((name) => name.trim()))
      .pipe(z.array(z.enum(scenarioNames)).min(1)),
    runs: z.coerce.number().int().min(1).max(20),
    duration: z.coerce.number().min(1),
    warmup: z.coerce.number().min(0).max(60),
    "no-build": z.boolean(),
    statements: z.boolean(),
    json: z.boolean(),
    "redis-cluster": z.boolean(),
    help: z.boolean(),
  })
  .refine((o) => o.duration + o.warmup <= MAX_SCENARIO_S - 60, {
    message: `--duration + --warmup must leave a minute of the ${MAX_SCENARIO_S} s scenario cap for drains`,
  });

const USAGE = `usage: npm run bench:load -- [--scenarios ${scenarioNames.join(",")}] [--runs 3] [--duration 15] [--warmup 3] [--no-build] [--statements] [--json] [--redis-cluster]`;
const options = readCommandLine(
  "bench-load",
  {
    scenarios: { type: "string", default: scenarioNames.join(",") },
    runs: { type: "string", default: "3" },
    duration: { type: "string", default: "15" },
    warmup: { type: "string", default: "3" },
    "no-build": { type: "boolean", default: false },
    statements: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    "redis-cluster": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
  optionsSchema,
  USAGE,
);
if (options.scenarios.some((name) => SCENARIOS[name].shoppers > MAX_SHOPPERS)) {
  throw new Error(`at most ${MAX_SHOPPERS} shoppers`);
}

// ---- processes and cleanup -------------------------------------------------------------------------

/** Keep-alive connections for every shopper; destroyed first on cleanup so the server can stop. */
const agent = keepAliveAgent("http://127.0.0.1", MAX_SHOPPERS);
const cleanups: (() => Promise<unknown>)[] = [];
let cleaning: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    agent.destroy();
    for (const step of cleanups.reverse()) await step().catch(() => {});
  })();
  return cleaning;
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (!cleaning) console.error(`\nbench-load: ${signal}, stopping everything it started`);
    void cleanup().then(() => process.exit(130));
  });
}

/** Runs a command to completion, showing its output only if it fails; stopped on cleanup. */
function run(command: string, args: string[], env = process.env): Promise<void> {
  return runQuietly(command, args, {
    cwd: ROOT,
    env,
    onSpawn: (child) => cleanups.push(async () => child.exitCode === null && child.kill("SIGTERM")),
  });
}

async function stop(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  if (await Promise.race([exited.then(() => true), sleep(graceMs, false)])) return;
  process.kill(-child.pid, "SIGKILL");
  await exited;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function loopback(url: string): string {
  const host = new URL(url).hostname;
  if (!["127.0.0.1", "localhost", "[::1]"].includes(host)) throw new Error(`refusing non-loopback ${host}`);
  return url;
}

// ---- CPU from /proc --------------------------------------------------------------------------------

type Group = "web" | "worker" | "postgres" | "redis";
const GROUPS: Group[] = ["web", "worker", "postgres", "redis"];
interface Proc {
  ppid: number;
  ticks: number;
}

function procTable(): Map<number, Proc> {
  const table = new Map<number, Proc>();
  for (const entry of fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // After "pid (comm) " comes field 3, so field n is at index n - 3: ppid 4, utime..cstime 14-17.
      const field = stat
        .slice(stat.lastIndexOf(")") + 2)
        .split(" ")
        .map(Number);
      const ticks = (field[11] ?? 0) + (field[12] ?? 0) + (field[13] ?? 0) + (field[14] ?? 0);
      table.set(Number(entry), { ppid: field[1] ?? 0, ticks });
    } catch {
      // It exited while we listed /proc.
    }
  }
  return table;
}

/** With --redis-cluster: the cluster's other nodes, whose CPU counts as Redis' beside roots.redis. */
const moreRedisRoots: number[] = [];

function cpuMs(roots: Record<Group, number>): Record<Group, number> {
  const table = procTable();
  const tree = (root: number): number =>
    (table.get(root)?.ticks ?? 0) * (1000 / CLK_TCK) +
    [...table].reduce((sum, [pid, proc]) => sum + (proc.ppid === root ? tree(pid) : 0), 0);
  // A pid we could not find stays 0, whose "children" would be the whole machine.
  const measure = (root: number) => (root > 0 ? tree(root) : Number.NaN);
  return {
    web: measure(roots.web),
    worker: measure(roots.worker),
    postgres: measure(roots.postgres),
    redis: [roots.redis, ...moreRedisRoots].reduce((sum, root) => sum + measure(root), 0),
  };
}

// ---- infrastructure --------------------------------------------------------------------------------

interface Infra {
  databaseUrl: string;
  redisUrl: string;
  label: string;
  /** Every Redis process (a cluster's nodes); without it, the one INFO names. */
  redisPids?: () => Promise<number[]>;
}

async function privateInfra(dir: string): Promise<Infra> {
  const pgPort = await freePort();
  const statements = fs.existsSync("/usr/share/postgresql/15/extension/pg_stat_statements.control");
  const postgres = new PrivatePostgres(
    dir,
    pgPort,
    statements
      ? {
          shared_preload_libraries: "pg_stat_statements",
          // Planning time per statement too, for --statements (it costs a little, so only then).
          ...(options.statements ? { "pg_stat_statements.track_planning": "on" } : {}),
        }
      : {},
  );
  cleanups.push(() => postgres.stop());
  await postgres.create();

  if (options["redis-cluster"]) {
    const cluster = new PrivateRedisCluster(path.join(dir, "redis-cluster"));
    cleanups.push(() => cluster.stop());
    await cluster.start();
    return {
      databaseUrl: postgres.url("storefront_bench_load"),
      redisUrl: cluster.url,
      label: `private PostgreSQL cluster (port ${pgPort}) and a Redis Cluster of 3 primaries + 3 replicas (ports ${cluster.ports.join(", ")}, append-only) in ${dir}`,
      redisPids: () => cluster.pids(),
    };
  }
  const redisPort = await freePort();
  const log = fs.openSync(path.join(dir, "redis.log"), "a");
  const redisArgs = ["--port", `${redisPort}`, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const redis = spawn("redis-server", [...redisArgs, "--maxmemory-policy", "noeviction", "--dir", dir], {
    detached: true,
    stdio: ["ignore", log, log],
  });
  await new Promise((resolve, reject) => redis.once("spawn", resolve).once("error", reject));
  cleanups.push(() => stop(redis, 5000));
  return {
    databaseUrl: postgres.url("storefront_bench_load"),
    redisUrl: `redis://127.0.0.1:${redisPort}`,
    label: `private PostgreSQL cluster (port ${pgPort}) and redis-server (port ${redisPort}) in ${dir}`,
  };
}

function sharedInfra(reason: string): Infra {
  const database = new URL(loopback(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/x"));
  database.pathname = "/postgres";
  const maintenanceUrl = database.toString();
  cleanups.push(async () => {
    const client = new pg.Client({ connectionString: maintenanceUrl });
    await client.connect();
    await client
      .query("DROP DATABASE IF EXISTS storefront_bench_load WITH (FORCE)")
      .finally(() => client.end());
  });
  database.pathname = "/storefront_bench_load";
  return {
    databaseUrl: database.toString(),
    redisUrl: loopback(process.env.REDIS_URL ?? "redis://127.0.0.1:6379"),
    label: `FALLBACK to the shared servers (${reason}): database storefront_bench_load, Redis prefix ${PREFIX}, their CPU includes other clients`,
  };
}

// ---- HTTP ------------------------------------------------------------------------------------------

/** Queries without input, mutations with one, on our own server: the target is always 127.0.0.1. */
function call(port: number, route: string, body?: unknown, jar?: CookieJar): Promise<Reply> {
  const kind = body === undefined ? "query" : "mutation";
  return callProcedure(`http://127.0.0.1:${port}`, route, { agent, kind, input: body, jar });
}

/** Every service instant and unlimited; "slow": payment 50 ms, the side effects' services 500 ms.
 * Consumers per queue as given, else each worker's own WORKER_CONCURRENCY. */
function knobs(slow: boolean, mode: CheckoutMode, consumers: number | null): SettingsPatch {
  const capacity = serviceSettingsSchema.shape.capacity.maxValue;
  if (capacity === null) throw new Error("the contract gives capacity no maximum");
  const latencyMs = (name: string) => (!slow || name === "inventory" ? 0 : name === "payment" ? 50 : 500);
  const service = (name: string) => ({
    latencyMs: latencyMs(name),
    jitterMs: 0,
    failureRate: 0,
    down: false,
    capacity,
  });
  return {
    defaultMode: mode,
    services: Object.fromEntries(SERVICE_NAMES.map((name) => [name, service(name)])),
    shop: { consumers: Object.fromEntries(SIDE_EFFECT_STEPS.map((step) => [step, consumers])) },
  };
}

// ---- one scenario run ------------------------------------------------------------------------------

const KEYS = [
  "ordersPerS",
  "completedPerS",
  "catalogP50",
  "catalogPerS",
  "p50",
  "p90",
  "p99",
  ...GROUPS,
  "total",
  "sql",
  "xacts",
  "drainS",
  "drainPerS",
  "drainBoundPerS",
  "peakQueue",
  "client",
  "referenceBefore",
  "referenceAfter",
] as const;
type Figures = Record<(typeof KEYS)[number], number>;
interface Result {
  figures: Figures;
  errors: Map<string, number>;
  /** With --statements: where Postgres spent its time in the window. */
  statements: string | null;
}

interface Bench {
  port: number;
  products: string[];
  pids: Record<Group, number>;
  db: pg.Client;
  redis: ReturnType<typeof clientFor>;
  statements: boolean;
  assertRunning: () => void;
}

/** The bench's own queries, subtracted from the statement and transaction counts. */
const own = { queries: 0, counted: 0 };
async function query(bench: Bench, text: string, values: unknown[] = []): Promise<Record<string, unknown>> {
  own.queries++;
  if (!text.includes("pg_stat_statements")) own.counted++;
  return (await bench.db.query(text, values)).rows[0] ?? {};
}

async function sqlCounters(bench: Bench): Promise<{ statements: number; xacts: number }> {
  const mine = { ...own };
  const commits = await query(
    bench,
    "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
  );
  const calls = bench.statements
    ? await query(
        bench,
        String.raw`SELECT sum(calls) AS n FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND query NOT ILIKE '%pg_stat_statements%' AND query !~* '^\s*(begin|commit|rollback)\y'`,
      )
    : { n: Number.NaN };
  return { statements: Number(calls.n) - mine.counted, xacts: Number(commits.xact_commit) - mine.queries };
}

/** Per statement shape (pg_stat_statements' queryid): calls and time spent executing and planning. */
type ShapeTimes = Map<string, { query: string; calls: number; execMs: number; planMs: number }>;

async function shapeTimes(bench: Bench): Promise<ShapeTimes> {
  own.queries++;
  const { rows } = await bench.db.query<{
    queryid: string;
    query: string;
    calls: string;
    exec_ms: number;
    plan_ms: number;
  }>(
    `SELECT queryid::text, query, calls::text, total_exec_time AS exec_ms, total_plan_time AS plan_ms
       FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND query NOT ILIKE '%pg_stat_statements%'`,
  );
  return new Map(
    rows.map((row) => [
      row.queryid,
      { query: row.query, calls: Number(row.calls), execMs: row.exec_ms, planMs: row.plan_ms },
    ]),
  );
}

/** The statement shapes that took the most of Postgres' time per order in a window, one line each. */
function shapeReport(before: ShapeTimes, after: ShapeTimes, orders: number, top = 12): string {
  const rows = [...after].map(([id, now]) => {
    const then = before.get(id) ?? { calls: 0, execMs: 0, planMs: 0 };
    return {
      query: now.query.replace(/\s+/g, " ").slice(0, 110),
      calls: (now.calls - then.calls) / orders,
      execMs: (now.execMs - then.execMs) / orders,
      planMs: (now.planMs - then.planMs) / orders,
    };
  });
  const shown = rows
    .filter((row) => row.calls > 0)
    .sort((a, b) => b.execMs + b.planMs - (a.execMs + a.planMs))
    .slice(0, top);
  const sum = (key: "execMs" | "planMs") => rows.reduce((total, row) => total + Math.max(0, row[key]), 0);
  const lines = shown.map(
    (row) =>
      `  ${row.calls.toFixed(2).padStart(5)} calls  exec ${row.execMs.toFixed(3)}  plan ${row.planMs.toFixed(3)} ms  ${row.query}`,
  );
  return (
    `  per order: exec ${sum("execMs").toFixed(2)} ms, plan ${sum("planMs").toFixed(2)} ms in all ` +
    `(pg_stat_statements; the rest of Postgres' CPU is protocol, commits, WAL and the backends themselves)\n` +
    lines.join("\n")
  );
}

async function waitDrained(bench: Bench, since: Date, deadline: number): Promise<boolean> {
  for (;;) {
    bench.assertRunning();
    const { n } = await query(
      bench,
      `SELECT count(*)::int AS n FROM "Order"
       WHERE status <> ALL($1::text[]) AND "createdAt" >= ($2::timestamptz AT TIME ZONE 'UTC')`,
      [FINAL_STATUSES, since.toISOString()],
    );
    if (n === 0) return true;
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
}

/** One pipeline per queue: on a Redis Cluster a pipeline must stay in one slot, as a queue's keys do. */
async function queueDepth(redis: Bench["redis"]): Promise<number> {
  const target = { kind: redis.isCluster ? "cluster" : "single" } as const;
  const replies = await Promise.all(
    SIDE_EFFECT_STEPS.map((step) => {
      const key = `${queuePrefixFor(target, PREFIX, queueName(step))}:${queueName(step)}`;
      return redis.pipeline().llen(`${key}:wait`).zcard(`${key}:prioritized`).zcard(`${key}:delayed`).exec();
    }),
  );
  return replies
    .flatMap((reply) => reply ?? [])
    .reduce((sum, [, value]) => sum + (typeof value === "number" ? value : 0), 0);
}

const live = { phase: "", orders: 0, errors: 0, queue: 0, peakQueue: 0 };

/** One closed-loop catalog reader (`product.list`) beside the shoppers, until `end`: the cheapest read
 * the same server answers, measured in the same window, is what the checkout's figures are judged by. */
async function readCatalog(bench: Bench, end: number): Promise<number[]> {
  const latencies: number[] = [];
  while (performance.now() < end && !cleaning) {
    const start = performance.now();
    const reply = await call(bench.port, "product.list").catch(() => null);
    if (reply?.status === 200 && performance.now() <= end) latencies.push(performance.now() - start);
    if (!reply) await sleep(50);
  }
  return latencies;
}

/** What the consumers and providers allow, in orders per second: an order needs one job of every
 * planned queue, so the slowest queue's bound (server/contract/drain.ts) bounds it. Null when the
 * providers are instant (no bound worth the name). */
function drainBound(knobs: SettingsPatch): number | null {
  const services = Object.fromEntries(
    SERVICE_NAMES.map((name) => [
      name,
      { latencyMs: knobs.services?.[name]?.latencyMs ?? 0, capacity: knobs.services?.[name]?.capacity ?? 1 },
    ]),
  ) as Record<ServiceName, { latencyMs: number; capacity: number }>;
  const bounds = PLANNED_SIDE_EFFECTS.map(
    (step) =>
      queueBound(step, services, knobs.shop?.consumers?.[step] ?? WORKER_CONCURRENCY_DEFAULT)
        .boundPerSecond ?? Number.POSITIVE_INFINITY,
  );
  const bound = Math.min(...bounds);
  return Number.isFinite(bound) ? bound : null;
}

async function drive(bench: Bench, jars: CookieJar[], mode: CheckoutMode, seconds: number) {
  const samples: { start: number; end: number; status: string }[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    jars.map(async (jar, index) => {
      const productId = bench.products[index % bench.products.length] ?? "";
      const customer = { name: `Shopper ${index}`, email: `shopper${index}@example.com` };
      while (performance.now() < end && !cleaning) {
        const input = { items: [{ productId, quantity: 1 }], customer, idempotencyKey: randomUUID(), mode };
        const start = performance.now();
        const reply = await call(bench.port, "order.place", input, jar).catch(() => null);
        samples.push({ start, end: performance.now(), status: reply ? `${reply.status}` : "network" });
        if (reply?.status === 200) live.orders++;
        else live.errors++;
        if (!reply) await sleep(50);
      }
    }),
  );
  return { samples, end, stoppedAt: performance.now() };
}

async function runScenario(bench: Bench, name: ScenarioName, label: string): Promise<Result> {
  const scenario: { shoppers: number; mode: CheckoutMode; slow: boolean; consumers?: number } =
    SCENARIOS[name];
  const { shoppers, mode, slow } = scenario;
  const deadline = Date.now() + MAX_SCENARIO_S * 1000 - 2 * STATS_SETTLE_MS;
  const settings = knobs(slow, mode, scenario.consumers ?? null);
  const set = await call(bench.port, "dev.updateSettings", settings);
  if (set.status !== 200) throw new Error(`dev.updateSettings answered ${set.status}: ${set.body}`);
  const jars = Array.from({ length: shoppers }, () => new CookieJar());
  Object.assign(live, { phase: "warm-up", orders: 0, errors: 0, queue: 0, peakQueue: 0 });
  const startedAt = performance.now();
  const ticker = setInterval(() => {
    const line = `${label} ${live.phase} ${((performance.now() - startedAt) / 1000).toFixed(0)} s: ${live.orders} orders, ${live.errors} errors, queue ${live.queue}`;
    process.stderr.write(process.stderr.isTTY ? `\r\x1b[K${line}` : `${line}\n`);
    queueDepth(bench.redis).then(
      (depth) => {
        live.queue = depth;
        if (live.phase === "measure" || live.phase === "drain")
          live.peakQueue = Math.max(live.peakQueue, depth);
      },
      () => {},
    );
  }, 1000);
  try {
    const warmupFrom = new Date();
    if (options.warmup > 0) await drive(bench, jars, mode, options.warmup);
    live.phase = "warm-up drain";
    if (!(await waitDrained(bench, warmupFrom, deadline))) throw new Error(`${name}: warm-up never drained`);
    live.phase = "settle";
    await sleep(STATS_SETTLE_MS);

    // How fast the cores were just before the window, and just after (they change from minute to minute).
    const referenceBefore = referenceMs();
    const sqlBefore = await sqlCounters(bench);
    const shapesBefore = options.statements && bench.statements ? await shapeTimes(bench) : null;
    const cpuBefore = cpuMs(bench.pids);
    const clientBefore = process.cpuUsage();
    const since = new Date();
    Object.assign(live, { phase: "measure", orders: 0, errors: 0 });
    const [load, catalog] = await Promise.all([
      drive(bench, jars, mode, options.duration),
      readCatalog(bench, performance.now() + options.duration * 1000),
    ]);
    const windowEnd = new Date();
    const { n: backlog } = await query(
      bench,
      `SELECT count(*)::int AS n FROM "Order"
       WHERE status <> ALL($1::text[]) AND "createdAt" >= ($2::timestamptz AT TIME ZONE 'UTC')`,
      [FINAL_STATUSES, since.toISOString()],
    );
    live.phase = "drain";
    const drained = await waitDrained(bench, since, deadline);
    const drainedAt = performance.now();
    const cpuAfter = cpuMs(bench.pids);
    const client = process.cpuUsage(clientBefore);
    const referenceAfter = referenceMs();
    live.phase = "settle";
    await sleep(STATS_SETTLE_MS);
    const { n: completedInWindow } = await query(
      bench,
      `SELECT count(*)::int AS n FROM "Order" WHERE status = 'completed'
       AND "createdAt" >= ($1::timestamptz AT TIME ZONE 'UTC') AND "settledAt" <= ($2::timestamptz AT TIME ZONE 'UTC')`,
      [since.toISOString(), windowEnd.toISOString()],
    );
    const sqlAfter = await sqlCounters(bench);
    const shapesAfter = shapesBefore ? await shapeTimes(bench) : null;

    const ok = load.samples.filter((sample) => sample.status === "200");
    const latencies = ok.map((sample) => sample.end - sample.start).sort((a, b) => a - b);
    const pct = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
    const perOrder = (value: number) => (ok.length > 0 ? value / ok.length : Number.NaN);
    const cpu = Object.fromEntries(GROUPS.map((g) => [g, perOrder(cpuAfter[g] - cpuBefore[g])])) as Record<
      Group,
      number
    >;
    const errors = new Map<string, number>();
    for (const { status } of load.samples)
      if (status !== "200") errors.set(status, (errors.get(status) ?? 0) + 1);
    const catalogSorted = [...catalog].sort((a, b) => a - b);
    const drainS = drained ? (drainedAt - load.stoppedAt) / 1000 : Number.NaN;
    const figures: Figures = {
      ordersPerS: ok.filter((sample) => sample.end <= load.end).length / options.duration,
      completedPerS: Number(completedInWindow) / options.duration,
      catalogP50: catalogSorted[Math.floor(catalogSorted.length / 2)] ?? Number.NaN,
      catalogPerS: catalog.length / options.duration,
      p50: pct(0.5),
      p90: pct(0.9),
      p99: pct(0.99),
      ...cpu,
      total: GROUPS.reduce((sum, g) => sum + cpu[g], 0),
      // The catalog reader's reads are one statement (and transaction) each: not the order path's.
      sql: perOrder(sqlAfter.statements - sqlBefore.statements - catalog.length),
      xacts: perOrder(sqlAfter.xacts - sqlBefore.xacts - catalog.length),
      drainS,
      // Orders still moving when the window closed, over how long they took to finish.
      drainPerS: drainS > 0 ? Number(backlog) / drainS : Number.NaN,
      drainBoundPerS: drainBound(settings) ?? Number.NaN,
      peakQueue: live.peakQueue,
      client: perOrder((client.user + client.system) / 1000),
      referenceBefore,
      referenceAfter,
    };
    const statements = shapesBefore && shapesAfter ? shapeReport(shapesBefore, shapesAfter, ok.length) : null;
    return { figures, errors, statements };
  } finally {
    clearInterval(ticker);
    if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
  }
}

// ---- report ----------------------------------------------------------------------------------------

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
const COLUMNS: [string, (f: Figures) => string][] = [
  ["orders/s", (f) => fixed(f.ordersPerS, f.ordersPerS < 100 ? 1 : 0)],
  ["done/s", (f) => fixed(f.completedPerS, f.completedPerS < 100 ? 1 : 0)],
  ["p50 ms", (f) => fixed(f.p50, 1)],
  ["p90 ms", (f) => fixed(f.p90, 1)],
  ["p99 ms", (f) => fixed(f.p99, 1)],
  ...GROUPS.map((g): [string, (f: Figures) => string] => [`${g} CPU`, (f) => fixed(f[g], 2)]),
  ["total CPU", (f) => fixed(f.total, 2)],
  ["SQL/order", (f) => fixed(f.sql, 1)],
  ["xact/order", (f) => fixed(f.xacts, 2)],
  ["drain s", (f) => (Number.isFinite(f.drainS) ? f.drainS.toFixed(1) : "timeout")],
  [
    "drain/s of bound",
    (f) =>
      Number.isFinite(f.drainBoundPerS) ? `${fixed(f.drainPerS, 0)}/${fixed(f.drainBoundPerS, 0)}` : "—",
  ],
  ["catalog p50 ms", (f) => fixed(f.catalogP50, 1)],
  ["catalog/s", (f) => fixed(f.catalogPerS, 0)],
  ["peak queue", (f) => fixed(f.peakQueue, 0)],
  ["reference ms", (f) => fixed((f.referenceBefore + f.referenceAfter) / 2, 0)],
];

/** The columns before the errors: throughput and latency. */
const HEADLINE = 5;

function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[mid] ?? Number.NaN;
  return sorted.length === 0 ? Number.NaN : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function summaryRow(name: ScenarioName, results: Result[]): string[] {
  const figures = Object.fromEntries(
    KEYS.map((key) => [key, median(results.map((r) => r.figures[key]))]),
  ) as Figures;
  const errors = new Map<string, number>();
  for (const r of results) for (const [code, n] of r.errors) errors.set(code, (errors.get(code) ?? 0) + n);
  const cells = COLUMNS.map(([, cell]) => cell(figures));
  const errorCell = [...errors].map(([code, n]) => `${code}×${n}`).join(" ") || "0";
  return [
    name,
    `${SCENARIOS[name].shoppers}`,
    SCENARIOS[name].mode,
    ...cells.slice(0, HEADLINE),
    errorCell,
    ...cells.slice(HEADLINE),
  ];
}

const compact = (f: Figures) =>
  `${fixed(f.ordersPerS, 1)}/s p50 ${fixed(f.p50, 1)} p99 ${fixed(f.p99, 1)} ms, CPU ${fixed(f.total, 2)} ms, ` +
  `SQL ${fixed(f.sql, 1)}, drain ${fixed(f.drainS, 1)} s (client ${fixed(f.client, 2)} ms/order, ` +
  `reference work ${fixed(f.referenceBefore, 0)} → ${fixed(f.referenceAfter, 0)} ms)`;

// ---- main ------------------------------------------------------------------------------------------

function buildIfStale(): Promise<void> {
  const newest = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((latest, entry) => {
      const full = path.join(dir, entry.name);
      return Math.max(latest, entry.isDirectory() ? newest(full) : fs.statSync(full).mtimeMs);
    }, 0);
  const buildId = path.join(ROOT, ".next", "BUILD_ID");
  const sources = Math.max(newest(path.join(ROOT, "app")), newest(path.join(ROOT, "server")));
  if (options["no-build"] || (fs.existsSync(buildId) && fs.statSync(buildId).mtimeMs >= sources)) {
    return Promise.resolve();
  }
  console.error("bench-load: npm run build…");
  return run("npm", ["run", "build"]);
}

/** Data stores, migrated and seeded, and `npm start` on them: everything a scenario needs. */
async function startStack(): Promise<{ bench: Bench; about: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-load-"));
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  console.error("bench-load: starting PostgreSQL and Redis, migrating, seeding…");
  const infra = await privateInfra(dir).catch((error: unknown) =>
    sharedInfra(error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error)),
  );
  const env = {
    ...process.env,
    DATABASE_URL: infra.databaseUrl,
    REDIS_URL: infra.redisUrl,
    REDIS_PREFIX: PREFIX,
    DEV_TOOLS: "on",
    // The shop being measured may run beside one that holds the default metrics port.
    WORKER_METRICS_PORT: "0",
  };
  const redis = clientFor(redisTarget(infra.redisUrl, undefined), {}).on("error", () => {});
  cleanups.push(async () => {
    const keys = infra.label.startsWith("FALLBACK") ? await redis.keys(`${PREFIX}:*`) : [];
    if (keys.length > 0) await redis.unlink(...keys);
    redis.disconnect();
  });
  const redisInfo = await redis.info("server");
  await run("npx", ["tsx", "scripts/migrate.ts"], env);
  await run("npx", ["tsx", "prisma/seed.ts", "--", "--restock"], env);

  const db = new pg.Client({ connectionString: infra.databaseUrl });
  await db.connect();
  cleanups.push(() => db.end());
  await db.query(`UPDATE "Product" SET stock = 1000000`);
  const statements = await db
    .query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    .then(() => db.query("SELECT 1 FROM pg_stat_statements LIMIT 1"))
    .then(() => true)
    .catch(() => false);
  const { rows } = await db.query<{ pid: number; version: string }>(
    "SELECT pg_backend_pid() AS pid, current_setting('server_version') AS version",
  );

  console.error("bench-load: npm start (web + worker)…");
  const port = await freePort();
  const logPath = path.join(dir, "server.log");
  const log = fs.openSync(logPath, "a");
  const server = spawn(process.execPath, ["scripts/start.mjs"], {
    cwd: ROOT,
    env: { ...env, PORT: `${port}` },
    detached: true,
    stdio: ["ignore", log, log],
  });
  cleanups.push(() => stop(server, 40_000));
  const serverLog = () => fs.readFileSync(logPath, "utf8").slice(-3000);
  const pids: Record<Group, number> = {
    web: 0,
    worker: 0,
    postgres: procTable().get(rows[0]?.pid ?? 0)?.ppid ?? 0,
    redis: Number(redisInfo.match(/process_id:(\d+)/)?.[1] ?? 0),
  };
  if (infra.redisPids) {
    const [first = 0, ...others] = await infra.redisPids();
    pids.redis = first;
    moreRedisRoots.push(...others);
  }
  let products: string[] = [];
  for (const started = Date.now(); products.length === 0; await sleep(250)) {
    if (server.exitCode !== null || Date.now() - started > 180_000) {
      throw new Error(`npm start did not come up; its log:\n${serverLog()}`);
    }
    for (const [pid, proc] of procTable()) {
      if (proc.ppid !== server.pid) continue;
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmdline.includes("server/main.ts")) pids.web = pid;
      if (cmdline.includes("workers/index.ts")) pids.worker = pid;
    }
    const reply = await call(port, "product.list").catch(() => null);
    if (reply?.status === 200 && pids.web && pids.worker) {
      const list = z.object({ result: z.object({ data: z.array(z.object({ id: z.string() })) }) });
      products = list.parse(JSON.parse(reply.body)).result.data.map((product) => product.id);
    }
  }
  const assertRunning = () => {
    const gone = GROUPS.filter((g) => pids[g] > 0 && !fs.existsSync(`/proc/${pids[g]}`));
    if (gone.length > 0)
      throw new Error(`${gone.join(", ")} exited during the run; server log:\n${serverLog()}`);
  };

  const idleBefore = cpuMs(pids);
  await sleep(2000);
  const idleAfter = cpuMs(pids);
  const idle = GROUPS.map((g) => `${g} ${((idleAfter[g] - idleBefore[g]) / 2).toFixed(0)}`).join(", ");
  const about =
    `${infra.label}; PostgreSQL ${rows[0]?.version}, Redis ${redisInfo.match(/redis_version:(\S+)/)?.[1]}; ` +
    `\`npm start\` (web + worker, production) on 127.0.0.1:${port}, idle CPU ms/s: ${idle}; ` +
    (statements ? "SQL = pg_stat_statements calls without BEGIN/COMMIT" : "SQL n/a (no pg_stat_statements)");
  return { bench: { port, products, pids, db, redis, statements, assertRunning }, about };
}

/** How fast this machine's cores are right now: a fixed single-threaded piece of work (hashing, and JSON
 * like an order's), the best of three, in ms. Machines of one kind differ, and a shared host's cores
 * slow down and speed up from one minute to the next (by half, seen here): figures from two runs compare
 * only as far as their reference does. */
function referenceMs(): number {
  const order = {
    steps: Array.from({ length: 8 }, (_, i) => ({ name: `step${i}`, at: new Date(i).toISOString() })),
  };
  const block = Buffer.alloc(64 * 1024, 7);
  const once = () => {
    const start = performance.now();
    for (let i = 0; i < 400; i++) createHash("sha256").update(block).digest();
    for (let i = 0; i < 20_000; i++) JSON.parse(JSON.stringify(order));
    return performance.now() - start;
  };
  return Math.min(once(), once(), once());
}

function gitCommit(): string {
  const git = (...args: string[]) =>
    execFileSync("git", ["--no-optional-locks", ...args], { cwd: ROOT, encoding: "utf8", stdio: "pipe" });
  try {
    return (
      git("rev-parse", "--short", "HEAD").trim() +
      (git("status", "--porcelain") ? " + uncommitted changes" : "")
    );
  } catch {
    return "unknown (not a git checkout)";
  }
}

/** The load targets, each a ratio of two figures from the same run (issue 7's decision: no machine
 * moves them), with the scenarios it reads. */
const RATIOS = {
  cpuAsyncOverSync: {
    what: "machine CPU per async order ÷ per sync order, 1 shopper",
    target: { atMost: 1.1 },
    of: (m: Medians) => (m["1-async"]?.total ?? Number.NaN) / (m["1-sync"]?.total ?? Number.NaN),
  },
  p50OverCatalog: {
    what: "async p50 to answer ÷ catalog p50 beside it, 1 shopper",
    target: { atMost: 3 },
    of: (m: Medians) => (m["1-async"]?.p50 ?? Number.NaN) / (m["1-async"]?.catalogP50 ?? Number.NaN),
  },
  throughputOverCatalog: {
    what: "async orders/s ÷ catalog reads/s beside them, 32 shoppers",
    target: { atLeast: 0.4 },
    of: (m: Medians) =>
      (m["32-async"]?.ordersPerS ?? Number.NaN) / (m["32-async"]?.catalogPerS ?? Number.NaN),
  },
  drainOverBound: {
    what: "drain rate ÷ its bound (consumers ÷ latency), 100 shoppers slow",
    target: { atLeast: 0.9 },
    of: (m: Medians) =>
      (m["100-async-slow"]?.drainPerS ?? Number.NaN) / (m["100-async-slow"]?.drainBoundPerS ?? Number.NaN),
  },
  completedAsyncOverSync: {
    what: "completed orders/s async ÷ sync, 100 shoppers slow",
    target: { atLeast: 2.5 },
    of: (m: Medians) =>
      (m["100-async-slow"]?.completedPerS ?? Number.NaN) / (m["100-sync-slow"]?.completedPerS ?? Number.NaN),
  },
} satisfies Record<
  string,
  { what: string; target: { atMost: number } | { atLeast: number }; of: (m: Medians) => number }
>;
type Medians = Partial<Record<ScenarioName, Figures>>;

function medians(results: Map<ScenarioName, Result[]>): Medians {
  return Object.fromEntries(
    [...results].map(([name, runs]) => [
      name,
      Object.fromEntries(KEYS.map((key) => [key, median(runs.map((r) => r.figures[key]))])) as Figures,
    ]),
  );
}

/** Each ratio this run can compute (its scenarios were run), its target, and whether it is met. */
function ratios(m: Medians) {
  return Object.fromEntries(
    Object.entries(RATIOS).flatMap(([name, ratio]) => {
      const value = ratio.of(m);
      if (!Number.isFinite(value)) return [];
      const met = "atMost" in ratio.target ? value <= ratio.target.atMost : value >= ratio.target.atLeast;
      return [[name, { value: Number(value.toFixed(3)), target: ratio.target, met, what: ratio.what }]];
    }),
  );
}

/** The machine's line (`--json`): every scenario's medians and the ratios, as one JSON object. */
function jsonLine(results: Map<ScenarioName, Result[]>): string {
  const round = (value: number) => (Number.isFinite(value) ? Number(value.toFixed(3)) : null);
  const m = medians(results);
  const scenarios = Object.fromEntries(
    Object.entries(m).map(([name, f]) => [
      name,
      {
        ordersPerS: round(f.ordersPerS),
        completedPerS: round(f.completedPerS),
        p50Ms: round(f.p50),
        p99Ms: round(f.p99),
        catalogP50Ms: round(f.catalogP50),
        catalogPerS: round(f.catalogPerS),
        cpuMsPerOrder: {
          web: round(f.web),
          worker: round(f.worker),
          postgres: round(f.postgres),
          redis: round(f.redis),
          total: round(f.total),
        },
        sqlPerOrder: round(f.sql),
        drainS: round(f.drainS),
        drainPerS: round(f.drainPerS),
        drainBoundPerS: round(f.drainBoundPerS),
      },
    ]),
  );
  const found = ratios(m);
  return JSON.stringify({
    commit: gitCommit(),
    scenarios,
    ratios: Object.fromEntries(Object.entries(found).map(([name, ratio]) => [name, ratio.value])),
  });
}

function report(results: Map<ScenarioName, Result[]>, conditions: string): void {
  const headers = ["scenario", "shoppers", "mode", ...COLUMNS.slice(0, HEADLINE).map(([h]) => h), "errors"];
  headers.push(...COLUMNS.slice(HEADLINE).map(([h]) => h));
  const table = [...results].map(([name, runs]) => summaryRow(name, runs));
  const widths = headers.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] ?? "").length)));
  const text = (cells: string[]) =>
    cells.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ");
  const md = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const runs = [...results].map(
    ([name, list]) => `${name}: ${list.map((r) => compact(r.figures)).join(" · ")}`,
  );
  console.info(`\n${text(headers)}\n${table.map(text).join("\n")}\n\nruns:\n${runs.join("\n")}`);
  const found = Object.entries(ratios(medians(results)));
  if (found.length > 0) {
    console.info("\nratios (medians of the runs; each a ratio of two figures from this run):");
    for (const [name, ratio] of found) {
      const target = "atMost" in ratio.target ? `≤ ${ratio.target.atMost}` : `≥ ${ratio.target.atLeast}`;
      console.info(
        `  ${name.padEnd(24)} ${ratio.value.toFixed(2).padStart(6)}  target ${target.padEnd(6)} ${ratio.met ? "met" : "NOT MET"}  (${ratio.what})`,
      );
    }
  }
  console.info(
    `\n<!-- markdown -->\n\n${conditions}\n\n${md(headers)}\n${md(headers.map((_, i) => (i < 3 ? "---" : "--:")))}\n` +
      `${table.map(md).join("\n")}\n\n${runs.map((line) => `- ${line}`).join("\n")}`,
  );
}

async function main(): Promise<void> {
  await buildIfStale();
  const { bench, about } = await startStack();
  const cpus = os.cpus();
  const conditions =
    `${cpus.length} × ${cpus[0]?.model}, load avg ${os.loadavg()[0]?.toFixed(2)}, node ${process.version}, ` +
    `${new Date().toISOString()}, commit ${gitCommit()}; ${about}; warm-up ${options.warmup} s + drain, then ` +
    `${options.duration} s measured; ${options.runs} run(s) interleaved, medians shown (errors: sum of runs); ` +
    "CPU in ms per order; the load generator shares the machine; reference ms: a fixed piece of " +
    "single-threaded work timed just before and just after each window, the mean (lower = faster cores; it moves by half from one " +
    "minute to the next on a shared host, and the other figures move with it)";
  console.info(`conditions: ${conditions}\n`);

  const results = new Map<ScenarioName, Result[]>(options.scenarios.map((name) => [name, []]));
  for (let runIndex = 1; runIndex <= options.runs; runIndex++) {
    for (const [name, list] of results) {
      const label = `[${name} run ${runIndex}/${options.runs}]`;
      const result = await runScenario(bench, name, label);
      list.push(result);
      console.info(`${label} ${compact(result.figures)}`);
      if (result.statements) console.info(result.statements);
    }
  }
  report(results, conditions);
  // Last line of stdout, for machines.
  if (options.json) console.info(jsonLine(results));
}

main()
  .then(cleanup)
  .then(() => process.exit(0))
  .catch(async (error: unknown) => {
    if (!cleaning)
      console.error(`bench-load: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
    await cleanup();
    process.exit(1);
  });
