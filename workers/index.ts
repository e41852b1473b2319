// The worker process: the outbox relay plus one consumer per side-effect queue, the reconciler that
// re-drives side effects whose job Redis lost, and the sweeper of abandoned checkouts. Run any number
// of these beside any number of web processes; everything they share lives in Postgres and Redis.
// Its metrics are served on a port of its own (WORKER_METRICS_PORT); it lists itself in Redis so the
// web process can find and sum every worker's numbers.
import { setTimeout as sleep } from "node:timers/promises";
import { config, metricsEnabled, SHUTDOWN_GRACE_MS } from "../server/config";
import { closeDatabase, commitReplayably } from "../server/db";
import { MetricsPortInUse, type MetricsServer, startMetricsServer } from "../server/http/metrics-server";
import { log, messageOf, nameProcess, noteOutage } from "../server/log";
import { startMetrics } from "../server/metrics/registry";
import { announceWorker } from "../server/metrics/workers";
import { startRelay } from "../server/outbox/relay";
import { closeQueues } from "../server/queues";
import { closeRedis, redis, unavailable } from "../server/redis";
import { startReconciler } from "../server/repair/reconcile";
import { SWEEP_EVERY_MS, sweepAbandonedCheckouts } from "../server/repair/sweeper";
import { startSideEffectWorkers } from "./side-effects";

nameProcess("worker");
// Every change a worker makes can be made again: its commits need not wait for the disk (see server/db.ts).
if (config.WORKER_COMMITS === "replayable") commitReplayably();
let metricsServer: MetricsServer | null = null;
if (metricsEnabled(config)) {
  startMetrics("worker");
  try {
    metricsServer = await startMetricsServer({
      host: config.WORKER_METRICS_HOST,
      port: config.WORKER_METRICS_PORT,
    });
  } catch (error) {
    // A clear message and exit code 1 (a supervisor should not restart into the same conflict).
    if (!(error instanceof MetricsPortInUse)) throw error;
    log.fatal({ error: error.message }, "storefront worker: cannot serve metrics");
    process.exit(1);
  }
}
const presence = announceWorker(metricsServer?.url ?? null);

const relay = startRelay();
const consumers = startSideEffectWorkers();
const reconciler = startReconciler({ everyMs: config.RECONCILE_EVERY_MS });
const sweeper = setInterval(() => {
  sweepAbandonedCheckouts().catch((error: unknown) => {
    // A store's outage is logged once by itself, not once per sweep it fails.
    if (!noteOutage(error)) log.warn({ component: "sweeper", error: messageOf(error) }, "sweep failed");
  });
}, SWEEP_EVERY_MS);
log.info(
  {
    reconcileEveryMs: config.RECONCILE_EVERY_MS,
    queues: consumers.workers.map((worker) => worker.name),
    metrics: metricsServer?.url ?? null,
  },
  "storefront worker: relay running, reconciler and consumers started",
);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "storefront worker: finishing jobs in flight");
  clearInterval(sweeper);
  const stopped = (async () => {
    await reconciler.stop();
    await relay.stop();
    await consumers.stop();
    await presence.stop();
    await metricsServer?.close();
    await closeQueues();
    await Promise.allSettled([closeDatabase(), closeRedis()]);
  })();
  // Closing the consumers and queues talks to Redis: while it is away that would wait for its return,
  // and a job in flight could not be marked done anyway. Go now; BullMQ redelivers what was running.
  const ended = await Promise.race([stopped, sleep(SHUTDOWN_GRACE_MS), untilRedisAway()]);
  if (ended === "redis away") log.warn("storefront worker: Redis is unreachable; stopping without it");
  process.exit(0);
}

/** Settles as soon as this process's Redis connection is away (checked every 100 ms). */
function untilRedisAway(): Promise<"redis away"> {
  return new Promise((resolve) => {
    const check = () => {
      if (unavailable(redis("command"))) resolve("redis away");
      else setTimeout(check, 100).unref();
    };
    check();
  });
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
// Started over an IPC channel (by a test, or a supervisor): when the parent goes, so does the worker.
process.on("disconnect", () => void shutdown("parent gone"));
