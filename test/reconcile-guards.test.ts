// The reconciler's guards, on real Postgres, Redis and BullMQ in this process: a live job is never
// re-driven; two reconcilers sweeping the same loss at once re-drive each step once; a job BullMQ
// completed while its step did not finish runs again under a new job id (BullMQ ignores an add whose
// id is still in its completed set); a dead letter Redis forgot runs again (failing, it would be a
// visible dead letter once more). A private redis-server and a database of this file's own keep the
// loss and the counts to this file.
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from "vitest";
import { atMost, privateRedis } from "./processes";

const redisServer = await privateRedis();

// Imported after the environment points at the private Redis and database.
const { prisma } = await import("../server/db");
const { reconcileOnce } = await import("../server/repair/reconcile");
const { startRelay } = await import("../server/outbox/relay");
const { sideEffectQueue } = await import("../server/queues");
const { redis } = await import("../server/redis");
const { deadLetters } = await import("../server/devtools/queues");
const { updateSettings } = await import("../server/downstream/settings");
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

const ORDERS = 3;
const relay = startRelay({ pollMs: 200 });
let workers: ReturnType<typeof startSideEffectWorkers> | null = null;
let placed: { id: string }[] = [];

beforeAll(async () => {
  await prisma.$executeRaw`TRUNCATE "Order", "DownstreamCall" CASCADE`;
  await makeServicesFast();
});

afterAll(async () => {
  const close = async () => {
    if (!redisServer.running) await redisServer.start();
    await relay.stop();
    await workers?.stop();
    await closeConnections();
  };
  await atMost(30_000, close());
  await redisServer.kill();
});

async function allDispatched(): Promise<void> {
  await waitForOrder(
    async () => ({
      status: `${await prisma.outboxMessage.count({ where: { dispatchedAt: null } })} undispatched`,
    }),
    (backlog) => backlog.status === "0 undispatched",
  );
}

describe("reconciler", () => {
  it("leaves live jobs alone, and re-drives each lost one once with two reconcilers at once", async () => {
    // No consumers yet: every job waits in its queue.
    const product = await createProduct({ stock: ORDERS });
    placed = await Promise.all(
      Array.from({ length: ORDERS }, () => callerFor().order.place(orderInput(product.id))),
    );
    await allDispatched();
    // Just dispatched: possibly still on its way to BullMQ, so not even looked at yet.
    expect((await reconcileOnce()).checked).toBe(0);
    const live = await reconcileOnce({ graceMs: 0 });
    expect(live.checked).toBe(3 * ORDERS);
    expect(live.redriven).toEqual([]);

    await redisServer.kill();
    await redisServer.start();
    await redis("command").ping();
    const sweeps = await Promise.all([reconcileOnce({ graceMs: 0 }), reconcileOnce({ graceMs: 0 })]);
    const redriven = sweeps.flatMap((sweep) => sweep.redriven);
    const steps = redriven.map((redrive) => `${redrive.orderId} ${redrive.step}`);
    expect(new Set(steps).size).toBe(steps.length);
    expect(steps.sort()).toEqual(
      placed.flatMap((order) => ["analytics", "email", "fraud"].map((step) => `${order.id} ${step}`)).sort(),
    );
    expect(redriven.every((redrive) => redrive.was === "unknown")).toBe(true);

    await allDispatched();
    workers = startSideEffectWorkers();
    for (const order of placed) {
      await waitForOrder(readOrder(order.id), (current) => current.status === "completed");
      expect(await downstreamCalls("email", "send", `${order.id}:receipt`)).toBe(1);
      expect(await downstreamCalls("shipping", "ship", order.id)).toBe(1);
    }
  }, 60_000);

  it("runs a step again under a new job id when BullMQ completed its job but the step is not done", async () => {
    const order = placed[0];
    if (!order) throw new Error("the first test placed no order");
    const before = await prisma.outboxMessage.findUniqueOrThrow({
      where: { orderId_step: { orderId: order.id, step: "email" } },
    });
    // As if the job had completed without its step's change: the step says pending again.
    await prisma.$executeRaw`UPDATE "Order" SET "status" = 'placed',
      "steps" = jsonb_set("steps", '{email,status}', '"pending"') WHERE "id" = ${order.id}`;

    const sweep = await reconcileOnce({ graceMs: 0 });
    expect(sweep.redriven).toHaveLength(1);
    expect(sweep.redriven[0]).toMatchObject({ orderId: order.id, step: "email", was: "completed" });
    expect(sweep.redriven[0]?.jobId).not.toBe(before.id);

    const done = await waitForOrder(readOrder(order.id), (current) => current.status === "completed");
    expect(done.steps.find((step) => step.name === "email")?.status).toBe("succeeded");
    expect(await downstreamCalls("email", "send", `${order.id}:receipt`)).toBe(1);
  }, 30_000);

  it("re-drives a job whose data Redis lost while its id stayed listed, before or after a worker failed it", async () => {
    // A failover can leave a queue's lists and a job's hash out of step; the shop must not depend on
    // them agreeing. Paused, so the first job is still waiting when its hash goes.
    const fraud = sideEffectQueue("fraud");
    await fraud.pause();
    onTestFinished(() => fraud.resume());
    const product = await createProduct({ stock: 2 });
    const placeWithoutJobData = async () => {
      const order = await callerFor().order.place(orderInput(product.id));
      await allDispatched();
      const { id: jobId } = await prisma.outboxMessage.findUniqueOrThrow({
        where: { orderId_step: { orderId: order.id, step: "fraud" } },
      });
      await redis("command").del(fraud.toKey(jobId));
      return { orderId: order.id, jobId };
    };

    const waiting = await placeWithoutJobData();
    expect(await fraud.getJobState(waiting.jobId)).toBe("waiting");
    expect((await reconcileOnce({ graceMs: 0 })).redriven).toEqual([
      expect.objectContaining({ ...waiting, step: "fraud", was: "unknown" }),
    ]);
    await allDispatched();

    // The second reaches a worker first: taken with no data, it is failed as invalid.
    const failed = await placeWithoutJobData();
    workers ??= startSideEffectWorkers();
    await fraud.resume();
    await vi.waitFor(async () => expect(await fraud.getJobState(failed.jobId)).toBe("failed"));
    const sweep = await reconcileOnce({ graceMs: 0 });
    expect(sweep.deadLettered).toBe(0);
    expect(sweep.redriven).toEqual([expect.objectContaining({ ...failed, step: "fraud", was: "unknown" })]);

    for (const { orderId } of [waiting, failed]) {
      await waitForOrder(readOrder(orderId), (current) => current.status === "completed");
      expect(await downstreamCalls("fraud", "screen", orderId)).toBe(1);
    }
    expect(await fraud.getJobCounts("failed", "wait", "active")).toEqual({ failed: 0, wait: 0, active: 0 });
  }, 30_000);

  it("runs a dead letter Redis forgot again, so its order can complete", async () => {
    await updateSettings({ services: { email: { down: true } } });
    const product = await createProduct({ stock: 1 });
    const order = await callerFor().order.place(orderInput(product.id));
    await waitForOrder(readOrder(order.id), (current) => current.status === "needs_attention", 30_000);
    expect((await deadLetters()).map((letter) => letter.orderId)).toContain(order.id);

    await redisServer.kill();
    await redisServer.start();
    await makeServicesFast();
    // Forgotten with everything else: nothing in /dev would offer the retry.
    expect(await deadLetters()).toEqual([]);
    const sweep = await reconcileOnce({ graceMs: 0 });
    expect(sweep.redriven).toEqual([
      expect.objectContaining({ orderId: order.id, step: "email", was: "unknown" }),
    ]);

    await waitForOrder(readOrder(order.id), (current) => current.status === "completed");
    expect(await downstreamCalls("email", "send", `${order.id}:receipt`)).toBe(1);
  }, 60_000);
});
