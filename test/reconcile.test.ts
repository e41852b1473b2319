// Redis loses every job: killed and replaced by an empty one, as a Redis without its append-only file
// comes back. Postgres still says the side effects wait; the reconcilers of two real worker processes
// find the steps whose job is gone and re-drive them through the outbox, and every order completes
// with each provider effect done exactly once. Runs on a private redis-server and a database of this
// file's own, so the loss hurts no one else and only this file's orders are counted.
import type { ChildProcess } from "node:child_process";
import { afterAll, expect, it } from "vitest";
import { atMost, exitOf, privateRedis, startWorkerProcess } from "./processes";

const ORDERS = 5;
/** The bound: after Redis comes back empty, every order is completed within this. */
const RECOVERY_BOUND_MS = 60_000;

const redisServer = await privateRedis();

// Imported after the environment points at the private Redis and database.
const { prisma } = await import("../server/db");
const { queueSummaries, setPaused } = await import("../server/devtools/queues");
const { sideEffectQueue } = await import("../server/queues");
const { redis } = await import("../server/redis");
const {
  callerFor,
  closeConnections,
  createProduct,
  makeServicesFast,
  orderInput,
  readOrder,
  stepOf,
  waitForOrder,
} = await import("./helpers");

const workers: ChildProcess[] = [];

async function stopWorker(worker: ChildProcess): Promise<void> {
  if (worker.exitCode !== null || worker.signalCode !== null) return;
  worker.kill("SIGTERM");
  const stopped = await Promise.race([
    exitOf(worker).then(() => true),
    new Promise<false>((resolve) => setTimeout(resolve, 10_000, false)),
  ]);
  if (!stopped) {
    worker.kill("SIGKILL");
    await exitOf(worker);
  }
}

afterAll(async () => {
  await Promise.all(workers.map(stopWorker));
  const close = async () => {
    // Closing connections waits for Redis: bring it back if a failed test left it down.
    if (!redisServer.running) await redisServer.start();
    await closeConnections();
  };
  await atMost(20_000, close());
  await redisServer.kill();
});

/** The provider ledger of one order: every operation done for it, with how often. */
async function ledgerOf(orderId: string): Promise<Record<string, number>> {
  const calls = await prisma.downstreamCall.findMany({
    where: { idempotencyKey: { in: [orderId, `${orderId}:receipt`, `${orderId}:order_placed`] } },
    select: { service: true, operation: true },
  });
  const ledger: Record<string, number> = {};
  for (const { service, operation } of calls) {
    const key = `${service} ${operation}`;
    ledger[key] = (ledger[key] ?? 0) + 1;
  }
  return ledger;
}

it(`completes every order within ${RECOVERY_BOUND_MS / 1000} s after Redis lost its jobs, each effect once`, async () => {
  // Leftovers of an earlier failed run would be re-driven too and spoil the counts below.
  await prisma.$executeRaw`TRUNCATE "Order", "DownstreamCall" CASCADE`;
  await makeServicesFast();
  for (let i = 0; i < 2; i++) workers.push(startWorkerProcess({ RECONCILE_EVERY_MS: "1000" }));

  // Fraud screening and the receipt wait in paused queues; fulfillment waits for fraud screening.
  await setPaused("fraud", true);
  await setPaused("email", true);
  const product = await createProduct({ stock: ORDERS });
  const placed = await Promise.all(
    Array.from({ length: ORDERS }, () => callerFor().order.place(orderInput(product.id))),
  );
  for (const order of placed) {
    await waitForOrder(
      readOrder(order.id),
      (current) => stepOf(current, "analytics").status === "succeeded",
      30_000,
    );
  }
  const dispatched = await prisma.outboxMessage.count({
    where: { orderId: { in: placed.map((order) => order.id) }, step: { in: ["fraud", "email"] } },
  });
  expect(dispatched).toBe(2 * ORDERS);
  // The jobs went to Redis at each commit; the relays mark their rows dispatched once the relay's grace
  // has passed (a paused queue's job never runs to mark its own): wait for that before Redis loses them.
  await expect
    .poll(() => prisma.outboxMessage.count({ where: { dispatchedAt: null } }), { timeout: 15_000 })
    .toBe(0);
  // ...and each relay's add has reached Redis after its mark (a no-op BullMQ records as a duplicate:
  // the job is there since the commit). Lost before that, a job would come back by the relay's hand,
  // not by a re-drive.
  const duplicates = async (step: "fraud" | "email") => {
    const events = await redis("command").xrange(sideEffectQueue(step).toKey("events"), "-", "+");
    return events.filter(([, fields]) => fields[1] === "duplicated").length;
  };
  for (const step of ["fraud", "email"] as const) {
    await expect.poll(() => duplicates(step), { timeout: 15_000 }).toBeGreaterThanOrEqual(ORDERS);
  }

  await redisServer.kill();
  await redisServer.start();
  const backAt = Date.now();
  await makeServicesFast();

  for (const order of placed) {
    const done = await waitForOrder(
      readOrder(order.id),
      (current) => current.status === "completed",
      RECOVERY_BOUND_MS - (Date.now() - backAt),
    );
    for (const step of ["fraud", "email", "analytics", "fulfillment"]) {
      expect(stepOf(done, step).status).toBe("succeeded");
    }
  }
  console.info(`every order completed ${Date.now() - backAt} ms after Redis came back empty`);

  for (const order of placed) {
    expect(await ledgerOf(order.id)).toEqual({
      "payment authorize": 1,
      "fraud screen": 1,
      "email send": 1,
      "analytics track": 1,
      "payment capture": 1,
      "shipping ship": 1,
    });
  }
  // Two reconcilers, one re-drive per lost job; fulfillment's job was never lost (it did not exist).
  const redriven = Object.fromEntries(
    (await queueSummaries()).map((queue) => [queue.name, queue.redriven.count]),
  );
  expect(redriven).toEqual({
    fraud: ORDERS,
    email: ORDERS,
    analytics: 0,
    fulfillment: 0,
    cancellationEmail: 0,
    saleReversal: 0,
  });
}, 120_000);
