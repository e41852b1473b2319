// Redis dies while shoppers check out. The order and its outbox rows are in Postgres, so checkout
// still succeeds, and at once: knobs fall back to the last ones seen, capacity goes uncounted, pushes
// are dropped, nothing waits for Redis to come back. When it returns, the relay hands the rows to the
// queues and the side effects run. A change in the developer tools, which must be stored in Redis, is
// refused at once with a 503 saying so. This file runs on a private redis-server so the outage hurts no
// one else. During each outage Redis' port is held by a listener that never answers (see SilentPort):
// anything that waited for Redis would wait for good, so an answer at all proves nothing waited.
import net from "node:net";
import getPort from "get-port";
import { expect, it, vi } from "vitest";
import { PrivateRedis } from "../tools/lib/private-redis";

const redisServer = new PrivateRedis(await getPort());
await redisServer.start();
process.env.REDIS_URL = redisServer.url;
process.env.REDIS_PREFIX = "storefront-outage";

// Imported after the environment points at the private Redis.
const { prisma } = await import("../server/db");
const { redis, unavailable } = await import("../server/redis");
const { callerFor, createProduct, orderInput, readOrder, serveApi, stepOf, makeServicesFast, waitForOrder } =
  await import("./helpers");
const { workerSideForTheFile } = await import("./private-redis-file");

const api = serveApi();

/** Redis' port, taken over by a listener that accepts every connection and never answers: no refusal
 * and no error for a client to give up on, so what a client sends there waits until the port is
 * handed back. */
class SilentPort {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  async open(port: number): Promise<void> {
    const server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", resolve);
    });
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}
const silentPort = new SilentPort();

/** Redis dies, and its port never answers until bringRedisBack. */
async function loseRedis(): Promise<void> {
  await redisServer.kill();
  await silentPort.open(redisServer.port);
}

async function bringRedisBack(): Promise<void> {
  await silentPort.close();
  if (!redisServer.running) await redisServer.start();
}

workerSideForTheFile(bringRedisBack, () => redisServer.kill());

it("places orders while Redis is down and runs their side effects once it is back", async () => {
  const product = await createProduct({ stock: 5 });
  const before = await callerFor().order.place(orderInput(product.id));
  await waitForOrder(readOrder(before.id), (order) => order.status === "completed");

  await loseRedis();
  // Answered at all: a checkout that waited for Redis would wait for good.
  const placed = await callerFor().order.place(orderInput(product.id));
  expect(placed.status).toBe("placed");

  // Messages can wait: nothing moves while the broker is away, nothing is lost either. Once the
  // relay has claimed the order's rows to hand them to the queues (its add waits for Redis)...
  await expect
    .poll(() => prisma.outboxMessage.count({ where: { orderId: placed.id, dispatchedAt: { not: null } } }), {
      timeout: 15_000,
    })
    .toBe(3);
  // ...the order has not moved, and its rows are still in the outbox.
  const waiting = await readOrder(placed.id)();
  expect(waiting.status).toBe("placed");
  expect(stepOf(waiting, "email").status).toBe("pending");
  expect(await prisma.outboxMessage.count({ where: { orderId: placed.id } })).toBe(3);

  await bringRedisBack();
  await makeServicesFast();
  const order = await waitForOrder(readOrder(placed.id), (current) => current.status === "completed", 30_000);
  for (const name of ["fraud", "email", "analytics", "fulfillment"]) {
    expect(stepOf(order, name).status).toBe("succeeded");
  }
}, 60_000);

const OUTAGE_MS = 30_000;
/** A checkout started this often from the first moment of the outage to its last, one shopper at a
 * time: whatever changes as an outage goes on (a reconnect attempt, a cache growing old) meets one. */
const CHECKOUT_EVERY_MS = 100;

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] ?? Number.NaN;
}

it(`answers every checkout over a ${OUTAGE_MS / 1000} s outage in which Redis never answers`, async () => {
  const checkouts = OUTAGE_MS / CHECKOUT_EVERY_MS;
  const product = await createProduct({ stock: 2 * checkouts });
  const warm = await callerFor().order.place(orderInput(product.id));
  await waitForOrder(readOrder(warm.id), (order) => order.status === "completed");

  await loseRedis();
  const answers: { ms: number; orderId: string }[] = [];
  try {
    for (let i = 0; i < checkouts; i++) {
      const started = Date.now();
      const placed = await callerFor().order.place(orderInput(product.id));
      answers.push({ ms: Date.now() - started, orderId: placed.id });
      expect(placed.status).toBe("placed");
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, CHECKOUT_EVERY_MS - (Date.now() - started))),
      );
    }
  } finally {
    await bringRedisBack();
  }
  // Every one answered while Redis' port never did: none waited for it. How fast, for the record (the
  // requirement is under 1 s at p99; bench:load measures it on a quiet machine).
  const times = answers.map((answer) => answer.ms).sort((a, b) => a - b);
  console.info(
    `${times.length} checkouts over the ${OUTAGE_MS / 1000} s outage answered in p50 ${percentile(times, 0.5)} ms, ` +
      `p99 ${percentile(times, 0.99)} ms, max ${times.at(-1)} ms`,
  );
  expect(answers).toHaveLength(checkouts);

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
  await loseRedis();
  try {
    // The process has seen the connection go (at once: the server closed its sockets).
    await vi.waitFor(() => expect(unavailable(redis("command"))).toBe(true), { timeout: 5000 });
    const answers = [
      await devWrite("dev.updateSettings", { services: { email: { latencyMs: 5 } } }),
      await devWrite("dev.applyPreset", { preset: "all-fast" }),
      await devWrite("dev.pauseQueue", { queue: "email" }),
      await devWrite("dev.retryAllDeadLetters", undefined),
    ];
    console.info(
      `/dev writes during the outage: ${answers.map((a) => `${a.procedure} ${a.ms} ms`).join(", ")}`,
    );
    // Each answered at all (Redis' port never does): refused before any command was sent.
    for (const answer of answers) {
      expect(answer).toMatchObject({ status: 503, retryAfter: "5" });
      expect(answer.error?.data.appCode).toBe("REDIS_UNAVAILABLE");
      expect(answer.error?.message).toMatch(/^Redis is unavailable/);
    }
  } finally {
    await bringRedisBack();
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
