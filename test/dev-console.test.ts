// The developer console's API against real queues: knobs one process sets, another obeys; paused
// consumers let messages wait and the backlog drains on resume; the dead-letter set replays or
// discards; the mailbox shows one receipt per order.
import { randomUUID } from "node:crypto";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { PRESETS } from "../server/contract";
import { sideEffectQueue } from "../server/queues";
import { startSideEffectWorkers } from "../workers/side-effects";
import {
  callerFor,
  closeConnections,
  createProduct,
  makeServicesFast,
  orderInput,
  readOrder,
  startWorkerSide,
  stepOf,
  waitForOrder,
} from "./helpers";
import { exitOf, startWorkerProcess } from "./processes";

const dev = callerFor().dev;

beforeEach(makeServicesFast);
afterAll(closeConnections);

describe("fault knobs", () => {
  it("merges partial updates and applies presets", async () => {
    const updated = await dev.updateSettings({ services: { email: { latencyMs: 1234 } } });
    expect(updated.services.email).toMatchObject({ latencyMs: 1234, jitterMs: 0, down: false });
    expect(updated.services.payment.latencyMs).toBe(0);
    const realistic = await dev.applyPreset({ preset: "realistic" });
    expect(realistic.services).toEqual(PRESETS.realistic.services);
    expect((await dev.settings()).services.email.latencyMs).toBe(PRESETS.realistic.services.email.latencyMs);
    await expect(
      dev.updateSettings({ services: { email: { latencyMs: -5 } } } as never),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(
      dev.updateSettings({ services: { printer: { down: true } } } as never),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
  });

  it("are obeyed at once by another process", async () => {
    await dev.updateSettings({ services: { email: { down: true } } });
    const worker = startWorkerProcess();
    try {
      const product = await createProduct({ stock: 5 });
      const placed = await callerFor().order.place(orderInput(product.id));
      const failing = await waitForOrder(
        readOrder(placed.id),
        (order) => stepOf(order, "email").status === "retrying",
        30_000,
      );
      expect(stepOf(failing, "email")).toMatchObject({ error: "Email provider is down", attempts: 1 });
      await dev.updateSettings({ services: { email: { down: false } } });
      const order = await waitForOrder(
        readOrder(placed.id),
        (current) => current.status === "completed",
        30_000,
      );
      expect(stepOf(order, "email").attempts).toBe(2);
    } finally {
      worker.kill("SIGTERM");
      await exitOf(worker);
    }
  }, 60_000);
});

describe("queues and the dead-letter set", () => {
  it("lets messages wait while consumers are paused, and drains the backlog on resume", async () => {
    const workerSide = startWorkerSide();
    try {
      await dev.pauseQueue({ queue: "email" });
      const product = await createProduct({ stock: 10 });
      const caller = callerFor();
      const orders = await Promise.all([1, 2, 3].map(() => caller.order.place(orderInput(product.id))));
      for (const placed of orders) {
        await waitForOrder(
          readOrder(placed.id),
          (order) => stepOf(order, "analytics").status === "succeeded",
        );
      }
      const paused = (await dev.queues()).find((queue) => queue.name === "email");
      expect(paused?.paused).toBe(true);
      expect(paused?.counts.waiting).toBeGreaterThanOrEqual(3);
      for (const placed of orders)
        expect(stepOf(await readOrder(placed.id)(), "email").status).toBe("pending");

      await dev.resumeQueue({ queue: "email" });
      for (const placed of orders) {
        await waitForOrder(readOrder(placed.id), (order) => order.status === "completed");
      }
      expect((await dev.queues()).find((queue) => queue.name === "email")?.paused).toBe(false);
    } finally {
      await dev.resumeQueue({ queue: "email" });
      await workerSide.stop();
    }
  });

  it("replays a dead letter after the outage, or discards one", async () => {
    const workerSide = startWorkerSide();
    try {
      await dev.updateSettings({ services: { analytics: { down: true } } });
      const product = await createProduct({ stock: 10 });
      const caller = callerFor();
      const [replayed, discarded] = await Promise.all(
        [1, 2].map(() => caller.order.place(orderInput(product.id))),
      );
      for (const placed of [replayed, discarded]) {
        await waitForOrder(
          readOrder(placed?.id ?? ""),
          (order) => order.status === "needs_attention",
          25_000,
        );
      }
      // The order records the failure a moment before BullMQ files the job as failed.
      const ours = (letter: { orderId: string | null }) =>
        letter.orderId === replayed?.id || letter.orderId === discarded?.id;
      await expect.poll(async () => (await dev.deadLetters()).filter(ours).length).toBe(2);
      const letters = await dev.deadLetters();
      const letterOf = (orderId: string) => letters.find((letter) => letter.orderId === orderId);
      expect(letterOf(replayed?.id ?? "")).toMatchObject({
        queue: "analytics",
        error: "Analytics service is down",
      });

      await dev.updateSettings({ services: { analytics: { down: false } } });
      expect(
        await dev.retryDeadLetter({ queue: "analytics", jobId: letterOf(replayed?.id ?? "")?.jobId ?? "" }),
      ).toBe(1);
      expect(
        await dev.discardDeadLetter({
          queue: "analytics",
          jobId: letterOf(discarded?.id ?? "")?.jobId ?? "",
        }),
      ).toBe(true);
      const healed = await waitForOrder(
        readOrder(replayed?.id ?? ""),
        (order) => order.status === "completed",
      );
      expect(stepOf(healed, "analytics").status).toBe("succeeded");
      const given = await readOrder(discarded?.id ?? "")();
      expect(given.status).toBe("completed");
      expect(stepOf(given, "analytics").status).toBe("skipped");
      const remaining = await dev.deadLetters();
      expect(
        remaining.some((letter) => letter.orderId === replayed?.id || letter.orderId === discarded?.id),
      ).toBe(false);
    } finally {
      await workerSide.stop();
    }
  }, 60_000);
});

describe("dead letters of orders that no longer exist", () => {
  it("are discarded without an error", async () => {
    const workers = startSideEffectWorkers();
    try {
      const job = await sideEffectQueue("email").add("email", { orderId: randomUUID(), step: "email" });
      await waitForOrder(
        async () => ({ status: String(await job.getState()) }),
        (state) => state.status === "failed",
      );
      expect(await dev.discardDeadLetter({ queue: "email", jobId: job.id ?? "" })).toBe(true);
      expect(await sideEffectQueue("email").getJob(job.id ?? "")).toBeUndefined();
    } finally {
      await workers.stop();
    }
  });
});

describe("mailbox", () => {
  it("holds one receipt per order, addressed to the shopper", async () => {
    const workerSide = startWorkerSide();
    try {
      const product = await createProduct({ stock: 5 });
      const input = orderInput(product.id);
      const placed = await callerFor().order.place(input);
      await waitForOrder(readOrder(placed.id), (order) => order.status === "completed");
      const receipts = (await dev.mailbox()).filter((email) => email.orderId === placed.id);
      expect(receipts).toHaveLength(1);
      expect(receipts[0]).toMatchObject({
        to: input.customer.email,
        subject: expect.stringContaining("receipt"),
      });
      expect(receipts[0]?.text).toContain(product.name);
    } finally {
      await workerSide.stop();
    }
  });
});
