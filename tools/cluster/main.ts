// `npm run start:cluster` (and the last step of `npm run cluster` / `npm run shop -- --web N --workers M`):
// N web processes and M worker processes of an already-built shop behind nginx, on this machine
// (tools/cluster/run.ts). Checks every flag and port before starting anything: bad input is one line
// on stderr and exit code 2. Ctrl+C or SIGTERM stops every process (exit 0); so does losing nginx, every
// web process or every worker process (exit 1). With --check it only checks, and starts nothing.
// With --redis-cluster it first starts a local Redis Cluster (tools/lib/private-redis-cluster.ts: 3
// primaries, 3 replicas, append-only files, free ports, a temp dir), points every process at it, and
// stops it (deleting its files) after them.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { FlagError } from "../lib/flags";
import { redisServerAvailable } from "../lib/private-redis";
import { PrivateRedisCluster } from "../lib/private-redis-cluster";
import { findNginx } from "./nginx";
import {
  type ClusterPlan,
  checkPorts,
  DEFAULT_WEB,
  DEFAULT_WORKERS,
  MAX_PROCESSES,
  readPlan,
  webPorts,
} from "./plan";
import { ClusterStartError, startCluster, webEnv } from "./run";

const USAGE = `usage: npm run cluster -- [--web N] [--workers M] [--port P] [--host H] [--redis-cluster] [--check]
  --web N      web processes (default ${DEFAULT_WEB}, at most ${MAX_PROCESSES}), on ports P+1 … P+N of 127.0.0.1
  --workers M  worker processes (default ${DEFAULT_WORKERS}, at most ${MAX_PROCESSES}), metrics on free ports
  --port P     where nginx listens, the shop's address (default $PORT, 3000)
  --host H     nginx's address (default $HOST, 127.0.0.1)
  Without DEV_TOOLS_KEY (and with DEV_TOOLS=on) a fresh key is made for the run and printed: behind nginx
  no request counts as this machine's, so the developer tools need one.
  --redis-cluster  start a local Redis Cluster (3 primaries + 3 replicas, redis-server) for this run
               and point every process at it, instead of REDIS_URL
  --check      check the flags and ports, start nothing`;

function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, " ");
}

function refuse(message: string): never {
  console.error(`cluster: ${message}`);
  process.exit(2);
}

async function planFromFlags(): Promise<{ plan: ClusterPlan; checkOnly: boolean; generatedKey: boolean }> {
  // The environment is read where the whole project reads it; a bad value there is bad input too.
  const { config, exposureProblem, loadConfig } = await import("../../server/config").catch(
    (error: unknown) => refuse(oneLine(error)),
  );
  let plan: ClusterPlan;
  let checkOnly: boolean;
  try {
    const read = readPlan(process.argv.slice(2), { port: config.PORT, host: config.HOST });
    if (read.help) {
      console.info(USAGE);
      process.exit(0);
    }
    ({ plan, check: checkOnly } = read);
    await checkPorts(plan);
  } catch (error) {
    if (error instanceof FlagError) refuse(`${error.message} (--help lists the flags)`);
    throw error;
  }
  // Every request reaches the web processes through nginx, so none counts as this machine's: without a
  // key the developer tools could not be used at all. A fresh key, printed once, is the easy way in.
  const generatedKey = config.DEV_TOOLS === "on" && !config.DEV_TOOLS_KEY;
  if (generatedKey) process.env.DEV_TOOLS_KEY = randomBytes(18).toString("base64url");
  // What every web process would say at its start, said once before any of them starts.
  const problem = exposureProblem(loadConfig(webEnv(plan, process.env)));
  if (problem) refuse(`--host ${plan.host}: ${problem}`);
  if (plan.redisCluster && !redisServerAvailable()) {
    refuse("--redis-cluster needs redis-server and redis-cli (Debian's redis-server package) on the PATH");
  }
  return { plan, checkOnly, generatedKey };
}

const { plan, checkOnly, generatedKey } = await planFromFlags();
const ports = webPorts(plan);
const shape =
  `${plan.web} web (ports ${ports[0]}–${ports.at(-1)}), ${plan.workers} worker(s), nginx on ${plan.host}:${plan.port}` +
  (plan.redisCluster ? ", a Redis Cluster of 3 primaries and 3 replicas" : "");
if (checkOnly) {
  console.info(`cluster: ok: ${shape}`);
  process.exit(0);
}

// Found, or installed with apt-get (the script says why not on stderr).
const nginxPath = findNginx("inherit") ?? process.exit(1);

console.info(`cluster: starting ${shape}`);
let stopRequested = false;

/** The local Redis Cluster of --redis-cluster, or null; stopped and deleted after every process. */
let redisCluster: { cluster: PrivateRedisCluster; dir: string } | null = null;
async function stopRedisCluster(): Promise<void> {
  if (!redisCluster) return;
  const { cluster, dir } = redisCluster;
  redisCluster = null;
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
}

async function startWithRedis() {
  let env: Record<string, string> = {};
  if (plan.redisCluster) {
    const dir = mkdtempSync(path.join(tmpdir(), "storefront-redis-cluster-"));
    const cluster = new PrivateRedisCluster(dir);
    redisCluster = { cluster, dir };
    await cluster.start();
    console.info(`cluster: Redis Cluster ready at ${cluster.url} (3 primaries, 3 replicas, in ${dir})`);
    // The cluster replaces whatever REDIS_URL / REDIS_CLUSTER_NODES said.
    env = { REDIS_URL: cluster.url, REDIS_CLUSTER_NODES: "" };
  }
  return startCluster(plan, { nginxPath, env: { ...process.env, ...env } });
}

const starting = startWithRedis();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopRequested) return;
    stopRequested = true;
    console.info(`cluster: ${signal}, stopping every process`);
    starting
      .then((cluster) => cluster.stop())
      .catch(() => {})
      .then(stopRedisCluster)
      .catch(() => {})
      .finally(() => process.exit(0));
  });
}

try {
  const cluster = await starting;
  if (generatedKey) {
    console.info(
      `cluster: developer tools key for this run: ${process.env.DEV_TOOLS_KEY} (enter it once in /dev; set DEV_TOOLS_KEY to choose one)`,
    );
  }
  console.info(`cluster: ready at ${cluster.url} (Ctrl+C stops every process)`);
  const reason = await cluster.stopped;
  await stopRedisCluster();
  console.error(`cluster: ${reason}; every process stopped`);
  process.exit(1);
} catch (error) {
  // Interrupted while starting: the signal handler exits once everything has stopped.
  if (!stopRequested) {
    await stopRedisCluster().catch(() => {});
    const why = error instanceof ClusterStartError ? error.message : oneLine(error);
    console.error(`cluster: could not start: ${why}`);
    process.exit(1);
  }
}
