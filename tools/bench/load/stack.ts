// What bench:load measures on: a private PostgreSQL cluster and redis-server on free ports (or a Redis
// Cluster), migrated and seeded with the project's own commands, and `npm start` (web + worker) on
// them, every process under the tools' supervisor; the shared servers when there are no PostgreSQL
// binaries. Everything it starts is stopped and deleted by cleanup(), also on failure and Ctrl+C.
import { once } from "node:events";
import * as fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import getPort from "get-port";
import pg from "pg";
import { z } from "zod";
import { MAX_SHOPPERS } from "../../../server/contract";
import { clientFor, redisTarget } from "../../../server/redis-target";
import { PrivatePostgres, runQuietly } from "../../lib/private-postgres";
import { PrivateRedisCluster } from "../../lib/private-redis-cluster";
import { GaveUp, reasonOf, Supervisor } from "../../lib/supervisor";
import { type CookieJar, callProcedure, keepAliveAgent, type Reply } from "../../load/http";
import { cpuMs, GROUPS, type Group, moreRedisRoots, procTable } from "./cpu";
import { MAX_SCENARIO_S, options, PREFIX, ROOT } from "./options";

/** Keep-alive connections for every shopper; destroyed first on cleanup so the server can stop. */
export const agent = keepAliveAgent("http://127.0.0.1", MAX_SHOPPERS);

const cleanups: (() => Promise<unknown>)[] = [];

let cleaning: Promise<void> | null = null;
/** Stops everything the bench started (once), in the reverse order of starting. */
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    agent.destroy();
    for (const step of cleanups.reverse()) await step().catch(() => {});
    await supervisor.stopAll();
  })();
  return cleaning;
}

/** Whether the bench is stopping: its loops end. */
export const stopping = (): boolean => cleaning !== null;

/** Every scenario's cap, and room to build, start and stop: past this the bench gives up. So it does on
 * Ctrl+C or SIGTERM, and when `npm start` or its private Redis dies. */
export const supervisor = new Supervisor("bench-load", {
  cwd: ROOT,
  limitMs: (options.runs * options.scenarios.length * MAX_SCENARIO_S + 15 * 60) * 1000,
});
supervisor.signal.addEventListener("abort", () => {
  const reason: unknown = supervisor.signal.reason;
  console.error(`\nbench-load: ${reasonOf(supervisor.signal, reason)}; stopping everything it started`);
  void cleanup().then(() => process.exit(reason instanceof GaveUp && reason.why === "signal" ? 130 : 1));
});

/** Runs a command to completion, showing its output only if it fails; stopped on cleanup. */
export function run(command: string, args: string[], env = process.env): Promise<void> {
  return runQuietly(command, args, {
    cwd: ROOT,
    env,
    onSpawn: (child) => cleanups.push(async () => child.exitCode === null && child.kill("SIGTERM")),
  });
}

function loopback(url: string): string {
  const host = new URL(url).hostname;
  if (!["127.0.0.1", "localhost", "[::1]"].includes(host)) throw new Error(`refusing non-loopback ${host}`);
  return url;
}

interface Infra {
  databaseUrl: string;
  redisUrl: string;
  label: string;
  /** Every Redis process (a cluster's nodes); without it, the one INFO names. */
  redisPids?: () => Promise<number[]>;
}

export async function privateInfra(dir: string): Promise<Infra> {
  const pgPort = await getPort();
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
  const redisPort = await getPort();
  const redisArgs = ["--port", `${redisPort}`, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const redis = supervisor.start({
    name: "redis-server",
    argv: ["redis-server", ...redisArgs, "--maxmemory-policy", "noeviction", "--dir", dir],
    output: { file: path.join(dir, "redis.log") },
  });
  if (redis.child) await once(redis.child, "spawn");
  cleanups.push(() => redis.stop(5000));
  return {
    databaseUrl: postgres.url("storefront_bench_load"),
    redisUrl: `redis://127.0.0.1:${redisPort}`,
    label: `private PostgreSQL cluster (port ${pgPort}) and redis-server (port ${redisPort}) in ${dir}`,
  };
}

export function sharedInfra(reason: string): Infra {
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

/** Queries without input, mutations with one, on our own server: the target is always 127.0.0.1. */
export function call(port: number, route: string, body?: unknown, jar?: CookieJar): Promise<Reply> {
  const kind = body === undefined ? "query" : "mutation";
  return callProcedure(`http://127.0.0.1:${port}`, route, { agent, kind, input: body, jar });
}

export interface Bench {
  port: number;
  products: string[];
  pids: Record<Group, number>;
  db: pg.Client;
  redis: ReturnType<typeof clientFor>;
  statements: boolean;
  assertRunning: () => void;
}

export function buildIfStale(): Promise<void> {
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
export async function startStack(): Promise<{ bench: Bench; about: string }> {
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
  const port = await getPort();
  const logPath = path.join(dir, "server.log");
  const server = supervisor.start({
    name: "npm start",
    argv: [process.execPath, "scripts/start.mjs"],
    env: { ...env, PORT: `${port}` },
    output: { file: logPath },
  });
  cleanups.push(() => server.stop(40_000));
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
    if (!server.alive || Date.now() - started > 180_000) {
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
