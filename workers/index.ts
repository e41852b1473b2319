// The worker process: the outbox relay plus one consumer per side-effect queue. Run any number of
// these beside any number of web processes; everything they share lives in Postgres and Redis.
import { prisma } from "../server/db";
import { sweepAbandonedCheckouts } from "../server/orders/sweeper";
import { startRelay } from "../server/outbox/relay";
import { closeQueues } from "../server/queues";
import { closeRedis } from "../server/redis";
import { startSideEffectWorkers } from "./side-effects";

const relay = startRelay();
const consumers = startSideEffectWorkers();
const SWEEP_EVERY_MS = 30_000;
const sweeper = setInterval(() => {
  sweepAbandonedCheckouts().catch((error) =>
    console.warn("sweeper:", error instanceof Error ? error.message : error),
  );
}, SWEEP_EVERY_MS);
console.info(
  `storefront worker: relay running, consuming ${consumers.workers.map((worker) => worker.name).join(", ")}`,
);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  console.info(`storefront worker: ${signal}, finishing jobs in flight`);
  clearInterval(sweeper);
  await relay.stop();
  await consumers.stop();
  await closeQueues();
  await Promise.allSettled([prisma.$disconnect(), closeRedis()]);
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
