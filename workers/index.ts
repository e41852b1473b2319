// The worker process: the outbox relay plus one consumer per side-effect queue, the reconciler that
// re-drives side effects whose job Redis lost, and the sweeper of abandoned checkouts. Run any number
// of these beside any number of web processes; everything they share lives in Postgres and Redis.
import { config } from "../server/config";
import { prisma } from "../server/db";
import { SWEEP_EVERY_MS, sweepAbandonedCheckouts } from "../server/orders/sweeper";
import { startReconciler } from "../server/outbox/reconcile";
import { startRelay } from "../server/outbox/relay";
import { closeQueues } from "../server/queues";
import { closeRedis } from "../server/redis";
import { startSideEffectWorkers } from "./side-effects";

const relay = startRelay();
const consumers = startSideEffectWorkers();
const reconciler = startReconciler({ everyMs: config.RECONCILE_EVERY_MS });
const sweeper = setInterval(() => {
  sweepAbandonedCheckouts().catch((error) =>
    console.warn("sweeper:", error instanceof Error ? error.message : error),
  );
}, SWEEP_EVERY_MS);
console.info(
  `storefront worker: relay running, reconciling every ${config.RECONCILE_EVERY_MS / 1000} s, consuming ${consumers.workers.map((worker) => worker.name).join(", ")}`,
);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.info(`storefront worker: ${signal}, finishing jobs in flight`);
  clearInterval(sweeper);
  await reconciler.stop();
  await relay.stop();
  await consumers.stop();
  await closeQueues();
  await Promise.allSettled([prisma.$disconnect(), closeRedis()]);
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
