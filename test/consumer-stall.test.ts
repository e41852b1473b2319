// A consumer that stops taking jobs is replaced. After a Redis Cluster failover the chaos soak saw both
// worker processes' fraud consumers take nothing more while four fraud jobs waited in the new primary's
// list: their orders stayed placed, and nothing in Redis looked lost to the reconciler. Here the fraud
// consumer's fetch loop is stopped in place (a local pause parks it as that failover did: it fetches
// nothing and says nothing), and the worker must notice the waiting job and start a new consumer. A
// private redis-server and a database of this file's own.
import { afterAll, expect, it } from "vitest";
import { atMost, privateRedis } from "./processes";

const redisServer = await privateRedis();

// Imported after the environment points at the private Redis and database.
const { queueName } = await import("../server/contract");
const { prisma } = await import("../server/db");
const { startRelay } = await import("../server/outbox/relay");
const { startSideEffectWorkers } = await import("../workers/side-effects");
const {
  callerFor,
  closeConnections,
  createProduct,
  downstreamCalls,
  makeServicesFast,
  orderInput,
  readOrder,
  waitForOrder,
} = await import("./helpers");

const STALL_MS = 2_000;
const relay = startRelay({ pollMs: 200 });
const consumers = startSideEffectWorkers({ stallMs: STALL_MS });

afterAll(async () => {
  await atMost(30_000, Promise.all([relay.stop(), consumers.stop()]).then(closeConnections));
  await redisServer.kill();
});

const fraudConsumer = () => consumers.workers.find((worker) => worker.name === queueName("fraud"));

it("replaces a consumer that takes no job while its queue's jobs wait, and the order completes", async () => {
  await prisma.$executeRaw`TRUNCATE "Order", "DownstreamCall" CASCADE`;
  await makeServicesFast();
  const stuck = fraudConsumer();
  if (!stuck) throw new Error("no fraud consumer");
  await stuck.pause(true);
  const product = await createProduct({ stock: 2 });
  const place = async () => (await callerFor().order.place(orderInput(product.id))).id;
  const completed = (orderId: string) =>
    waitForOrder(readOrder(orderId), (current) => current.status === "completed", 20_000);
  // The fetch the paused consumer had already begun takes one more job; then it fetches no more.
  await completed(await place());

  const stranded = await place();
  const done = await completed(stranded);
  expect(done.steps.find((step) => step.name === "fraud")?.status).toBe("succeeded");
  expect(fraudConsumer()).not.toBe(stuck);
  expect(await downstreamCalls("fraud", "screen", stranded)).toBe(1);
}, 40_000);
