// Redis dies while shoppers check out. The order and its outbox rows are in Postgres, so checkout
// still succeeds, and at once: knobs fall back to the last ones seen, capacity goes uncounted, pushes
// are dropped, nothing waits for Redis to come back. When it returns, the relay hands the rows to the
// queues and the side effects run. This file runs on a private redis-server so the outage hurts no
// one else.
import { afterAll, beforeAll, expect, it } from "vitest";
import { atMost, freePort, PrivateRedis } from "./processes";

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
  const close = async () => {
    // Closing workers waits for Redis: bring it back if a failed test left it down.
    if (!redisServer.running) await redisServer.start();
    await stop();
    await closeQueues();
    await closeRedis();
    await prisma.$disconnect();
  };
  await atMost(30_000, close());
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
  // The rows stay in the outbox: handed back, or claimed by a relay whose enqueue waits for Redis.
  expect(await prisma.outboxMessage.count({ where: { orderId: placed.id } })).toBe(3);

  await redisServer.start();
  await makeServicesFast();
  const order = await waitForOrder(readOrder(placed.id), (current) => current.status === "completed", 30_000);
  for (const name of ["fraud", "email", "analytics", "fulfillment"]) {
    expect(stepOf(order, name).status).toBe("succeeded");
  }
}, 60_000);

/** The requirement is under 1 s per checkout; a checkout here takes tens of milliseconds. The bound is
 * twice the requirement because this machine is shared (a loaded core can stall any request for a few
 * hundred ms), while what it guards against, a checkout waiting out ioredis' reconnect attempts, takes
 * 5 to 50 s: the bound cannot be met by accident. */
const OUTAGE_ANSWER_BOUND_MS = 2000;
const OUTAGE_MS = 24_000;
const CHECKOUT_EVERY_MS = 2000;

it(`answers every checkout within ${OUTAGE_ANSWER_BOUND_MS} ms over a ${OUTAGE_MS / 1000} s outage`, async () => {
  const product = await createProduct({ stock: 50 });
  const warm = await callerFor().order.place(orderInput(product.id));
  await waitForOrder(readOrder(warm.id), (order) => order.status === "completed");

  await redisServer.kill();
  const outageStarted = Date.now();
  const answers: { ms: number; orderId: string }[] = [];
  try {
    while (Date.now() - outageStarted < OUTAGE_MS) {
      const started = Date.now();
      const placed = await callerFor().order.place(orderInput(product.id));
      answers.push({ ms: Date.now() - started, orderId: placed.id });
      expect(placed.status).toBe("placed");
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, CHECKOUT_EVERY_MS - (Date.now() - started))),
      );
    }
  } finally {
    await redisServer.start();
  }
  const times = answers.map((answer) => answer.ms);
  console.info(`checkouts during the outage answered in ${times.join(", ")} ms`);
  expect(answers.length).toBeGreaterThanOrEqual(OUTAGE_MS / CHECKOUT_EVERY_MS - 1);
  expect(Math.max(...times)).toBeLessThan(OUTAGE_ANSWER_BOUND_MS);

  // Redis came back empty (no persistence here): default knobs until these are set again.
  await makeServicesFast();
  for (const { orderId } of answers) {
    await waitForOrder(readOrder(orderId), (order) => order.status === "completed", 30_000);
  }
}, 120_000);
