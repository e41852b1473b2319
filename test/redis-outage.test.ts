// Redis dies while shoppers check out. The order and its outbox rows are in Postgres, so checkout
// still succeeds; when Redis returns, the relay hands the rows to the queues and the side effects run.
// This file runs on a private redis-server so the outage hurts no one else.
import { afterAll, beforeAll, expect, it } from "vitest";
import { freePort, PrivateRedis } from "./processes";

const redisServer = new PrivateRedis(await freePort());
await redisServer.start();
process.env.REDIS_URL = redisServer.url;
process.env.REDIS_PREFIX = "storefront-outage";

// Imported after the environment points at the private Redis.
const { prisma } = await import("../server/db");
const { startRelay } = await import("../server/outbox/relay");
const { closeQueues } = await import("../server/queues");
const { closeRedis } = await import("../server/redis");
const { startSideEffectWorkers } = await import("../workers/side-effects");
const { callerFor, createProduct, orderInput, readOrder, stepOf, makeServicesFast, waitForOrder } =
  await import("./helpers");

let stop: () => Promise<void>;
beforeAll(async () => {
  await makeServicesFast();
  const relay = startRelay({ pollMs: 200 });
  const workers = startSideEffectWorkers();
  stop = async () => {
    await relay.stop();
    await workers.stop();
  };
});
afterAll(async () => {
  // Closing workers waits for Redis: bring it back if a failed test left it down.
  if (!redisServer.running) await redisServer.start();
  await stop();
  await closeQueues();
  await closeRedis();
  await prisma.$disconnect();
  await redisServer.kill();
});

it("places orders while Redis is down and runs their side effects once it is back", async () => {
  const product = await createProduct({ stock: 5 });
  const before = await callerFor().order.place(orderInput(product.id));
  await waitForOrder(readOrder(before.id), (order) => order.status === "completed");

  await redisServer.kill();
  const startedAt = Date.now();
  const placed = await callerFor().order.place(orderInput(product.id));
  const checkoutMs = Date.now() - startedAt;
  expect(placed.status).toBe("placed");
  expect(checkoutMs).toBeLessThan(10_000);

  // Messages can wait: nothing moves while the broker is away, nothing is lost either.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const waiting = await readOrder(placed.id)();
  expect(waiting.status).toBe("placed");
  expect(stepOf(waiting, "email").status).toBe("pending");
  expect(await prisma.outboxMessage.count({ where: { orderId: placed.id, dispatchedAt: null } })).toBe(3);

  await redisServer.start();
  await makeServicesFast();
  const order = await waitForOrder(readOrder(placed.id), (current) => current.status === "completed", 30_000);
  for (const name of ["fraud", "email", "analytics", "fulfillment"]) {
    expect(stepOf(order, name).status).toBe("succeeded");
  }
}, 60_000);
