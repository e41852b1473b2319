// Redis dies while shoppers check out. The order and its outbox rows are in Postgres, so checkout
// still succeeds, and at once: knobs fall back to the last ones seen, capacity goes uncounted, pushes
// are dropped, nothing waits for Redis to come back. When it returns, the relay hands the rows to the
// queues and the side effects run. A change in the developer tools, which must be stored in Redis, is
// refused at once with a 503 saying so. This file runs on a private redis-server so the outage hurts no
// one else.
import getPort from "get-port";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PrivateRedis } from "../tools/lib/private-redis";
import { atMost } from "./processes";

const redisServer = new PrivateRedis(await getPort());
await redisServer.start();
process.env.REDIS_URL = redisServer.url;
process.env.REDIS_PREFIX = "storefront-outage";

// Imported after the environment points at the private Redis.
const { closeDatabase, prisma } = await import("../server/db");
const { closeQueues } = await import("../server/queues");
const { closeRedis, redis, unavailable } = await import("../server/redis");
const {
  callerFor,
  createProduct,
  orderInput,
  readOrder,
  serveApi,
  startWorkerSide,
  stepOf,
  makeServicesFast,
  waitForOrder,
} = await import("./helpers");

const api = serveApi();

let workerSide: { stop: () => Promise<void> } | undefined;
beforeAll(async () => {
  await makeServicesFast();
  workerSide = startWorkerSide();
});
afterAll(async () => {
  const close = async () => {
    // Closing workers waits for Redis: bring it back if a failed test left it down.
    if (!redisServer.running) await redisServer.start();
    await workerSide?.stop();
    await closeQueues();
    await closeRedis();
    await closeDatabase();
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
const OUTAGE_MS = 30_000;
/** A checkout started this often from the first moment of the outage to its last (one shopper at a
 * time: a checkout that waited would hold up the next ones, which would be timed too). */
const CHECKOUT_EVERY_MS = 100;

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

it(`answers checkouts within 1 s at p99 over a ${OUTAGE_MS / 1000} s outage, every one timed`, async () => {
  const product = await createProduct({ stock: 2 * (OUTAGE_MS / CHECKOUT_EVERY_MS) });
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
  const times = answers.map((answer) => answer.ms).sort((a, b) => a - b);
  const p99 = percentile(times, 0.99);
  console.info(
    `${times.length} checkouts over the ${OUTAGE_MS / 1000} s outage answered in p50 ${percentile(times, 0.5)} ms, ` +
      `p99 ${p99} ms, max ${times.at(-1)} ms`,
  );
  // Paced checkouts: fewer than half of them means some waited for seconds.
  expect(answers.length).toBeGreaterThanOrEqual(OUTAGE_MS / CHECKOUT_EVERY_MS / 2);
  expect(p99).toBeLessThan(1000);
  expect(times.at(-1)).toBeLessThan(OUTAGE_ANSWER_BOUND_MS);

  // Redis came back empty (no persistence here): default knobs until these are set again.
  await makeServicesFast();
  for (const { orderId } of answers) {
    await waitForOrder(readOrder(orderId), (order) => order.status === "completed", 30_000);
  }
}, 180_000);

async function devWrite(procedure: string, input: unknown) {
  const startedAt = Date.now();
  const response = await fetch(`${api.url()}/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(input),
  });
  const json = (await response.json()) as { error?: { message: string; data: { appCode: string | null } } };
  return {
    procedure,
    ms: Date.now() - startedAt,
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    error: json.error,
  };
}

it("refuses /dev writes at once with a 503 saying Redis is unavailable, and takes them once it is back", async () => {
  await redisServer.kill();
  try {
    // The process has seen the connection go (at once: the server closed its sockets).
    const deadline = Date.now() + 5000;
    while (!unavailable(redis("command")) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const answers = [
      await devWrite("dev.updateSettings", { services: { email: { latencyMs: 5 } } }),
      await devWrite("dev.applyPreset", { preset: "all-fast" }),
      await devWrite("dev.pauseQueue", { queue: "email" }),
      await devWrite("dev.retryAllDeadLetters", undefined),
    ];
    console.info(
      `/dev writes during the outage: ${answers.map((a) => `${a.procedure} ${a.ms} ms`).join(", ")}`,
    );
    for (const answer of answers) {
      expect(answer).toMatchObject({ status: 503, retryAfter: "5" });
      expect(answer.error?.data.appCode).toBe("REDIS_UNAVAILABLE");
      expect(answer.error?.message).toMatch(/^Redis is unavailable/);
      // Refused before any command is sent: no reconnect attempt of ioredis is waited for.
      expect(answer.ms).toBeLessThan(OUTAGE_ANSWER_BOUND_MS);
    }
  } finally {
    await redisServer.start();
  }
  await expect
    .poll(
      async () => (await devWrite("dev.updateSettings", { services: { email: { latencyMs: 0 } } })).status,
      {
        timeout: 10_000,
        interval: 100,
      },
    )
    .toBe(200);
}, 60_000);
