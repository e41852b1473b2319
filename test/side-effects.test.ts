// The asynchronous half against real Postgres, Redis/BullMQ and socket.io: the outbox relay, the
// workers, retries into the dead-letter set, fraud compensation, and live pushes to the owner only.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type ClientToServerEvents,
  isNewer,
  type OrderView,
  QUEUE_ATTEMPTS,
  type ServerToClientEvents,
  type WatchAck,
} from "../server/contract";
import { prisma } from "../server/db";
import { updateSettings } from "../server/downstream/settings";
import { SESSION_COOKIE } from "../server/http/session";
import { relayOnce } from "../server/outbox/relay";
import { sideEffectQueue } from "../server/queues";
import { attachRealtime } from "../server/realtime/server";
import {
  callerFor,
  closeConnections,
  createProduct,
  deliverAgain,
  downstreamCalls,
  makeServicesFast,
  orderInput,
  readOrder,
  stepOf,
  stockOf,
  waitForOrder,
  withWorkers,
} from "./helpers";

afterAll(closeConnections);

describe("outbox relay", () => {
  it("enqueues each outbox row once, however often it runs", async () => {
    await makeServicesFast();
    const product = await createProduct({ stock: 5 });
    const order = await callerFor().order.place(orderInput(product.id));
    const rows = await prisma.outboxMessage.findMany({ where: { orderId: order.id } });
    expect(rows.map((row) => row.step).sort()).toEqual(["analytics", "email", "fraud"]);

    // The checkout added the jobs; two relays sweeping at once add them again (no grace: at once).
    await Promise.all([relayOnce({ graceMs: 0 }), relayOnce({ graceMs: 0 })]);
    // A relay that crashed after enqueueing but before marking the rows sends them again.
    await prisma.outboxMessage.updateMany({ where: { orderId: order.id }, data: { dispatchedAt: null } });
    await relayOnce({ graceMs: 0 });

    for (const row of rows) {
      const queue = sideEffectQueue(row.step as "fraud" | "email" | "analytics");
      const jobs = await queue.getJobs([
        "waiting",
        "delayed",
        "active",
        "completed",
        "failed",
        "prioritized",
      ]);
      expect(jobs.filter((job) => job.data.orderId === order.id)).toHaveLength(1);
      expect((await queue.getJob(row.id))?.data).toEqual({ orderId: order.id, step: row.step });
    }
    expect(await prisma.outboxMessage.count({ where: { orderId: order.id, dispatchedAt: null } })).toBe(0);
  });
});

describe("workers", () => {
  withWorkers();
  beforeEach(makeServicesFast);

  it("runs every side effect once and completes the order", async () => {
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(orderInput(product.id));
    expect(placed.status).toBe("placed");
    const order = await waitForOrder(readOrder(placed.id), (current) => current.status === "completed");
    for (const name of ["fraud", "email", "analytics", "fulfillment"]) {
      expect(stepOf(order, name)).toMatchObject({ status: "succeeded", attempts: 1 });
    }
    expect(stepOf(order, "fulfillment").detail).toMatch(/tracking 1Z[0-9A-F]{12}/);
    expect(order.settledAt).not.toBeNull();
    expect(await downstreamCalls("email", "send", `${order.id}:receipt`)).toBe(1);
    expect(await downstreamCalls("payment", "capture", order.id)).toBe(1);
    expect(await downstreamCalls("shipping", "ship", order.id)).toBe(1);
    // Fulfillment waited for fraud screening.
    const fraud = order.steps.find((step) => step.name === "fraud");
    const fulfillment = order.steps.find((step) => step.name === "fulfillment");
    expect(Date.parse(fulfillment?.startedAt ?? "")).toBeGreaterThanOrEqual(
      Date.parse(fraud?.finishedAt ?? ""),
    );
  });

  it("does not redo a step that already succeeded when its job is delivered again", async () => {
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(orderInput(product.id));
    await waitForOrder(readOrder(placed.id), (current) => current.status === "completed");
    const before = await readOrder(placed.id)();
    // At-least-once delivery: the same job again, under a new id.
    await deliverAgain("email", placed.id);
    const after = await readOrder(placed.id)();
    expect(stepOf(after, "email").attempts).toBe(stepOf(before, "email").attempts);
    expect(after.version).toBe(before.version);
    expect(await downstreamCalls("email", "send", `${placed.id}:receipt`)).toBe(1);
  });

  it("retries with backoff, then leaves the job in the dead-letter set and the order needing attention", async () => {
    await updateSettings({ services: { analytics: { down: true } } });
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(orderInput(product.id));
    const order = await waitForOrder(
      readOrder(placed.id),
      (current) => stepOf(current, "analytics").status === "failed",
      25_000,
    );
    expect(order.status).toBe("needs_attention");
    expect(stepOf(order, "analytics").attempts).toBe(QUEUE_ATTEMPTS);
    expect(stepOf(order, "analytics")).toMatchObject({ error: "Analytics service is down" });
    // The step records its failure before BullMQ moves the job to the failed set: wait for that too.
    const failedJobs = async () =>
      (await sideEffectQueue("analytics").getFailed()).filter((job) => job.data.orderId === placed.id);
    await expect.poll(async () => (await failedJobs()).length).toBe(1);
    const failed = await failedJobs();
    expect(failed[0]?.attemptsMade).toBe(QUEUE_ATTEMPTS);

    // The outage ends; a replay from the dead-letter set completes the order.
    await updateSettings({ services: { analytics: { down: false } } });
    await failed[0]?.retry();
    const healed = await waitForOrder(readOrder(placed.id), (current) => current.status === "completed");
    expect(stepOf(healed, "analytics")).toMatchObject({ status: "succeeded", attempts: QUEUE_ATTEMPTS + 1 });
  }, 40_000);

  it("cancels an order fraud screening rejects: authorization voided, stock released once", async () => {
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(
      orderInput(product.id, {
        items: [{ productId: product.id, quantity: 2 }],
        customer: { name: "Mallory", email: `fraudster+${randomUUID().slice(0, 6)}@example.com` },
      }),
    );
    expect(await stockOf(product.id)).toBe(3);
    // Cancelled first (the stock back in the same statement), the void owed until the gateway answers.
    const order = await waitForOrder(
      readOrder(placed.id),
      (current) => current.status === "cancelled" && stepOf(current, "payment").status !== "compensating",
    );
    expect(order.failureReason).toMatch(/Fraud screening rejected the order/);
    expect(stepOf(order, "fraud").status).toBe("rejected");
    expect(stepOf(order, "payment")).toMatchObject({ status: "compensated", detail: "Authorization voided" });
    expect(stepOf(order, "inventory")).toMatchObject({ status: "compensated", detail: "Stock released" });
    expect(stepOf(order, "fulfillment").status).toBe("skipped");
    // The step says voided only once the gateway has: its ledger holds the void already.
    expect(await downstreamCalls("payment", "void", placed.id)).toBe(1);
    expect(await downstreamCalls("payment", "capture", placed.id)).toBe(0);
    expect(await stockOf(product.id)).toBe(5);
    // Fraud screening delivered again: the stock is not released a second time.
    await deliverAgain("fraud", placed.id);
    expect(await stockOf(product.id)).toBe(5);
  });

  it("fails a malformed job at once instead of retrying it", async () => {
    const job = await sideEffectQueue("email").add("email", { orderId: "not-a-uuid", step: "email" });
    await waitForOrder(
      async () => ({ status: (await job.getState()) as string }),
      (state) => state.status === "failed",
    );
    const failed = await sideEffectQueue("email").getJob(job.id ?? "");
    expect(failed?.attemptsMade).toBe(1);
    expect(failed?.failedReason).toMatch(/invalid email job payload/);
  });

  describe("live updates over socket.io", () => {
    const server = createServer();
    const realtime = attachRealtime(server);
    let url = "";
    const sockets: Socket<ServerToClientEvents, ClientToServerEvents>[] = [];

    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.disconnect();
      await realtime.close();
    });

    function client(sessionId: string | null) {
      const socket: Socket<ServerToClientEvents, ClientToServerEvents> = connect(url, {
        transports: ["websocket"],
        extraHeaders: sessionId ? { cookie: `${SESSION_COOKIE}=${sessionId}` } : {},
      });
      sockets.push(socket);
      return socket;
    }
    const watch = (socket: Socket<ServerToClientEvents, ClientToServerEvents>, input: unknown) =>
      new Promise<WatchAck>((resolve) => socket.emit("order:watch", input, resolve));

    it("pushes every step to the owner, in version order, and nothing to anyone else", async () => {
      // Each side effect takes long enough for its "running" state to be pushed before its result
      // (a step that finishes within the same moment may have both states coalesced into one push).
      await updateSettings({
        services: {
          fraud: { latencyMs: 150 },
          email: { latencyMs: 300 },
          analytics: { latencyMs: 150 },
          shipping: { latencyMs: 150 },
        },
      });
      const owner = randomUUID();
      const product = await createProduct({ stock: 5 });
      const mine = client(owner);
      const theirs = client(randomUUID());
      const anonymous = client(null);
      const seen: OrderView[] = [];
      const leaked: OrderView[] = [];
      // What the page shows: pushes from several processes may arrive out of order; only newer apply.
      const page: { shown: OrderView | null } = { shown: null };
      mine.on("order:updated", (order) => {
        seen.push(order);
        if (isNewer(order, page.shown)) page.shown = order;
      });
      theirs.on("order:updated", (order) => leaked.push(order));
      anonymous.on("order:updated", (order) => leaked.push(order));

      const placed = await callerFor(owner).order.place(orderInput(product.id));
      const ack = await watch(mine, { orderId: placed.id });
      expect(ack).toMatchObject({ ok: true, order: { id: placed.id } });
      // The page starts from the snapshot its watch answers with: a step the worker took before the
      // watch joined the order's room (the jobs go to the queue right after the commit) shows there.
      if (ack.ok) {
        seen.push(ack.order);
        if (isNewer(ack.order, page.shown)) page.shown = ack.order;
      }
      expect(await watch(theirs, { orderId: placed.id })).toEqual({
        ok: false,
        code: "NOT_FOUND",
        error: "Order not found",
      });
      expect(await watch(anonymous, { orderId: placed.id })).toEqual({
        ok: false,
        code: "NOT_FOUND",
        error: "Order not found",
      });
      const invalid = await watch(theirs, { orderId: 42 });
      expect(invalid.ok).toBe(false);

      await waitForOrder(
        async () => ({ status: page.shown?.status ?? "none" }),
        (latest) => latest.status === "completed",
      );
      // The page ends on the true state: the newest version there is, every step done.
      const stored = await readOrder(placed.id)();
      expect(page.shown?.version).toBe(stored.version);
      expect(page.shown?.steps.every((step) => step.status === "succeeded")).toBe(true);
      // Each side effect was seen running, in an older version than the one saying it was done.
      for (const name of ["fraud", "email", "analytics", "fulfillment"]) {
        const firstVersion = (status: string) =>
          Math.min(
            ...seen
              .filter((order) => order.steps.some((step) => step.name === name && step.status === status))
              .map((order) => order.version),
          );
        expect(firstVersion("running")).toBeLessThan(firstVersion("succeeded"));
      }
      expect(leaked).toEqual([]);
    });
  });
});
