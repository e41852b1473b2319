// An undo the providers owe is never lost. The statement that undoes an order records a void, refund or
// shipment cancel as owed (its step `compensating`), and only the provider's answer makes it
// "Authorization voided": a provider that fails it leaves it owed and visible, and the fraud job's
// retry (async) or the reconciler (any mode, once the retries are spent) finishes it, once at the
// provider. Discarding a dead letter the order cannot stand without (fraud screening, fulfillment)
// fails and undoes the order. A compensation whose order flips placed ↔ needs_attention between its
// read and its claim still claims it; one whose pending order was confirmed meanwhile does not.
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { config } from "../server/config";
import type { OrderStatus, OrderView, PlaceOrderInput, SettingsPatch, StepName } from "../server/contract";
import { prisma } from "../server/db";
import { deadLetters } from "../server/devtools/queues";
import { updateSettings } from "../server/downstream/settings";
import { compensate } from "../server/orders/compensate";
import { reconcileOnce } from "../server/repair/reconcile";
import {
  callerFor,
  closeConnections,
  createProduct,
  makeServicesFast,
  orderIdOf,
  orderInput,
  readOrder,
  stepOf,
  stockOf,
  waitForOrder,
  withWorkers,
} from "./helpers";

beforeEach(makeServicesFast);
afterAll(closeConnections);

const fraudster = () => ({ name: "Mallory", email: `fraud+${randomUUID().slice(0, 8)}@example.com` });
const errorOf = (order: OrderView, name: StepName) =>
  order.steps.find((step) => step.name === name)?.error ?? null;
const owes = (order: OrderView, name: StepName) =>
  stepOf(order, name).status === "compensating" && errorOf(order, name) !== null;
const settled = (order: OrderView) => order.settledAt !== null;

/** The provider ledger under the order's own key (`service.operation` → calls): what was done to the
 * authorization and the shipment, and how many times. */
async function ledger(orderId: string): Promise<Record<string, number>> {
  const calls = await prisma.downstreamCall.findMany({
    where: { idempotencyKey: orderId, service: { in: ["payment", "shipping"] } },
    select: { service: true, operation: true },
  });
  const counts: Record<string, number> = {};
  for (const { service, operation } of calls) {
    counts[`${service}.${operation}`] = (counts[`${service}.${operation}`] ?? 0) + 1;
  }
  return counts;
}

async function ledgerHolds(orderId: string, operation: string): Promise<void> {
  await waitForOrder(
    async () => ({ status: `${(await ledger(orderId))[operation] ?? 0}` }),
    (count) => count.status === "1",
  );
}

describe("async: the fraud job's retry, or the reconciler, finishes an undo a provider failed", () => {
  withWorkers();

  it("a void the gateway fails once: owed, then voided by the job's retry, once", async () => {
    await updateSettings({ services: { fraud: { latencyMs: 500 } } });
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(orderInput(product.id, { customer: fraudster() }));
    // The gateway goes down after the authorization, before the verdict.
    await updateSettings({ services: { payment: { down: true } } });
    const owed = await waitForOrder(readOrder(placed.id), (order) => owes(order, "payment"));
    expect(owed.status).toBe("cancelled");
    expect(stepOf(owed, "payment")).toMatchObject({
      status: "compensating",
      detail: "Voiding the authorization",
    });
    expect(errorOf(owed, "payment")).toBe("Payment gateway is down");
    expect(settled(owed)).toBe(false);
    // The stock went back with the claim; the gateway holds the authorization only.
    expect(await stockOf(product.id)).toBe(5);
    expect(await ledger(placed.id)).toEqual({ "payment.authorize": 1 });

    // No reconciler runs here: only the fraud job's own retry can finish it.
    await updateSettings({ services: { payment: { down: false } } });
    const order = await waitForOrder(readOrder(placed.id), settled);
    expect(order.status).toBe("cancelled");
    expect(stepOf(order, "fraud").status).toBe("rejected");
    expect(stepOf(order, "payment")).toMatchObject({ status: "compensated", detail: "Authorization voided" });
    expect(errorOf(order, "payment")).toBeNull();
    expect(await ledger(placed.id)).toEqual({ "payment.authorize": 1, "payment.void": 1 });
    expect(await stockOf(product.id)).toBe(5);
  });

  it("a void failed on every attempt stays owed past the dead letter; the reconciler voids it", async () => {
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(orderInput(product.id, { customer: fraudster() }));
    await updateSettings({ services: { payment: { down: true } } });
    const letter = await waitForOrder(
      async () => {
        const found = (await deadLetters()).find(
          (candidate) => candidate.queue === "fraud" && candidate.orderId === placed.id,
        );
        return { status: found ? "dead-lettered" : "retrying", jobId: found?.jobId ?? "" };
      },
      (found) => found.status === "dead-lettered",
      25_000,
    );
    const owed = await readOrder(placed.id)();
    expect(owes(owed, "payment")).toBe(true);
    expect(await ledger(placed.id)).toEqual({ "payment.authorize": 1 });

    expect((await reconcileOnce()).undos.stillOwed).toBeGreaterThanOrEqual(1);
    await updateSettings({ services: { payment: { down: false } } });
    expect((await reconcileOnce()).undos.finished).toBeGreaterThanOrEqual(1);
    const order = await waitForOrder(readOrder(placed.id), settled);
    expect(stepOf(order, "payment")).toMatchObject({ status: "compensated", detail: "Authorization voided" });
    expect(await ledger(placed.id)).toEqual({ "payment.authorize": 1, "payment.void": 1 });

    // Discarding that dead letter now changes nothing: the verdict stands, nothing is undone twice.
    expect(await callerFor().dev.discardDeadLetter({ queue: "fraud", jobId: letter.jobId })).toBe(true);
    const after = await readOrder(placed.id)();
    expect(after).toMatchObject({ status: "cancelled", version: order.version });
    expect(await ledger(placed.id)).toEqual({ "payment.authorize": 1, "payment.void": 1 });
  }, 40_000);

  /** Places an order whose `step` keeps failing until its job is dead-lettered (fault `service`). */
  async function deadLettered(step: "fraud" | "fulfillment", service: "fraud" | "shipping") {
    const outage = (down: boolean) =>
      updateSettings({ services: service === "fraud" ? { fraud: { down } } : { shipping: { down } } });
    await outage(true);
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(orderInput(product.id));
    await waitForOrder(readOrder(placed.id), (order) => order.status === "needs_attention", 25_000);
    const letter = await waitForOrder(
      async () => {
        const found = (await deadLetters()).find(
          (candidate) => candidate.queue === step && candidate.orderId === placed.id,
        );
        return { status: found ? "dead-lettered" : "not yet", jobId: found?.jobId ?? "" };
      },
      (found) => found.status === "dead-lettered",
    );
    await outage(false);
    return { product, orderId: placed.id, jobId: letter.jobId };
  }

  it("discarding a fraud dead letter fails the order and voids its authorization (owed, then done)", async () => {
    const { product, orderId, jobId } = await deadLettered("fraud", "fraud");
    // The void fails at first: the discard still goes through, the void stays owed.
    await updateSettings({ services: { payment: { down: true } } });
    expect(await callerFor().dev.discardDeadLetter({ queue: "fraud", jobId })).toBe(true);
    const discarded = await readOrder(orderId)();
    expect(discarded.status).toBe("failed");
    expect(discarded.failureReason).toBe(
      "Fraud screening was given up on (discarded from the dead-letter set), and the order cannot go ahead without it. Nothing was charged.",
    );
    expect(stepOf(discarded, "fraud")).toMatchObject({
      status: "skipped",
      detail: "Discarded from the dead-letter set by a developer",
    });
    expect(stepOf(discarded, "fulfillment").status).toBe("skipped");
    expect(owes(discarded, "payment")).toBe(true);
    expect(await stockOf(product.id)).toBe(5);

    await updateSettings({ services: { payment: { down: false } } });
    await reconcileOnce();
    const order = await waitForOrder(readOrder(orderId), settled);
    expect(order.status).toBe("failed");
    expect(stepOf(order, "payment")).toMatchObject({ status: "compensated", detail: "Authorization voided" });
    // Never screened, never shipped, nothing held: the receipt that went out is corrected.
    expect(await ledger(orderId)).toEqual({ "payment.authorize": 1, "payment.void": 1 });
    expect(stepOf(order, "cancellationEmail").status).toBe("succeeded");
  }, 40_000);

  it("discarding a fulfillment dead letter after the capture refunds it (owed, then done)", async () => {
    const { product, orderId, jobId } = await deadLettered("fulfillment", "shipping");
    await updateSettings({ services: { payment: { down: true } } });
    expect(await callerFor().dev.discardDeadLetter({ queue: "fulfillment", jobId })).toBe(true);
    const discarded = await readOrder(orderId)();
    expect(discarded.status).toBe("failed");
    expect(stepOf(discarded, "payment")).toMatchObject({
      status: "compensating",
      detail: "Refunding the payment",
    });
    expect(await ledger(orderId)).toEqual({ "payment.authorize": 1, "payment.capture": 1 });

    await updateSettings({ services: { payment: { down: false } } });
    await reconcileOnce();
    const order = await waitForOrder(readOrder(orderId), settled);
    expect(stepOf(order, "payment")).toMatchObject({ status: "compensated", detail: "Payment refunded" });
    expect(await ledger(orderId)).toEqual({
      "payment.authorize": 1,
      "payment.capture": 1,
      "payment.refund": 1,
    });
    expect(await stockOf(product.id)).toBe(5);
    const [cancellation] = (await callerFor().dev.mailbox()).filter(
      (email) => email.orderId === orderId && email.subject.includes("cancelled"),
    );
    expect(cancellation?.text).toContain("Refunded");
  }, 40_000);
});

/** Starts a synchronous checkout of one unit and, once the provider ledger holds `operation` for its
 * order, applies `outage`: the undo that follows fails. The checkout's answer: its order, or its error. */
async function checkoutThenOutage(
  input: PlaceOrderInput,
  operation: string,
  outage: SettingsPatch["services"],
): Promise<{ orderId: string; answer: unknown }> {
  const placing = callerFor()
    .order.place(input)
    .catch((error: unknown) => error);
  const orderId = await orderIdOf(input.idempotencyKey);
  await ledgerHolds(orderId, operation);
  await updateSettings({ services: outage });
  return { orderId, answer: await placing };
}

describe("the synchronous modes: an undo still owed when the checkout answers, finished by the reconciler", () => {
  it("sync: fraud rejects, the void fails on both inline attempts, then the reconciler voids once", async () => {
    await updateSettings({ services: { fraud: { latencyMs: 800 } } });
    const product = await createProduct({ stock: 5 });
    const { orderId, answer } = await checkoutThenOutage(
      orderInput(product.id, { mode: "sync", customer: fraudster() }),
      "payment.authorize",
      { payment: { down: true } },
    );
    // The shopper is told at once; the order says what it still owes.
    expect(answer).toMatchObject({ status: "cancelled", settledAt: null });
    const answered = await readOrder(orderId)();
    expect(owes(answered, "payment")).toBe(true);
    expect(await ledger(orderId)).toEqual({ "payment.authorize": 1 });

    await updateSettings({ services: { payment: { down: false } } });
    expect((await reconcileOnce()).undos.finished).toBeGreaterThanOrEqual(1);
    const order = await readOrder(orderId)();
    expect(order.status).toBe("cancelled");
    expect(stepOf(order, "payment")).toMatchObject({ status: "compensated", detail: "Authorization voided" });
    expect(settled(order)).toBe(true);
    expect(await ledger(orderId)).toEqual({ "payment.authorize": 1, "payment.void": 1 });
    expect(await stockOf(product.id)).toBe(5);
    // A second sweep finds nothing owed: nothing is done twice.
    await reconcileOnce();
    expect((await readOrder(orderId)()).version).toBe(order.version);
  });

  it("sync: a refund the gateway fails after the capture is owed, then refunded once", async () => {
    // The shipment fails after its latency, so the capture is in before it does.
    await updateSettings({ services: { shipping: { latencyMs: 400, failureRate: 1 } } });
    const product = await createProduct({ stock: 5 });
    const { orderId, answer } = await checkoutThenOutage(
      orderInput(product.id, { mode: "sync" }),
      "payment.capture",
      { payment: { down: true } },
    );
    expect(answer).toMatchObject({ code: "BAD_GATEWAY" });
    const failed = await readOrder(orderId)();
    expect(failed.status).toBe("failed");
    expect(stepOf(failed, "payment")).toMatchObject({
      status: "compensating",
      detail: "Refunding the payment",
    });
    expect(owes(failed, "payment")).toBe(true);
    // The receipt was corrected before the answer, and says the money comes back.
    const [cancellation] = (await callerFor().dev.mailbox()).filter(
      (email) => email.orderId === orderId && email.subject.includes("cancelled"),
    );
    expect(cancellation?.text).toContain("Refunded");

    await updateSettings({ services: { payment: { down: false } } });
    await reconcileOnce();
    const order = await readOrder(orderId)();
    expect(stepOf(order, "payment")).toMatchObject({ status: "compensated", detail: "Payment refunded" });
    expect(settled(order)).toBe(true);
    expect(await ledger(orderId)).toEqual({
      "payment.authorize": 1,
      "payment.capture": 1,
      "payment.refund": 1,
    });
  });

  it("sync-parallel: a shipment cancel the carrier fails is owed with the refund, then both done once", async () => {
    // The receipt fails slowly; fulfillment ships meanwhile, side by side.
    await updateSettings({ services: { email: { latencyMs: 600, failureRate: 1 } } });
    const product = await createProduct({ stock: 5 });
    const { orderId, answer } = await checkoutThenOutage(
      orderInput(product.id, { mode: "sync-parallel" }),
      "shipping.ship",
      { shipping: { down: true } },
    );
    expect(answer).toMatchObject({ code: "BAD_GATEWAY" });
    const failed = await readOrder(orderId)();
    expect(failed.status).toBe("failed");
    expect(stepOf(failed, "fulfillment")).toMatchObject({
      status: "compensating",
      detail: "Cancelling the shipment",
    });
    expect(errorOf(failed, "fulfillment")).toBe("Shipping carrier is down");
    expect(stepOf(failed, "payment")).toMatchObject({
      status: "compensating",
      detail: "Refunding the payment",
    });

    await updateSettings({ services: { shipping: { down: false } } });
    await reconcileOnce();
    const order = await readOrder(orderId)();
    expect(stepOf(order, "fulfillment")).toMatchObject({
      status: "compensated",
      detail: "Shipment cancelled",
    });
    expect(stepOf(order, "payment")).toMatchObject({ status: "compensated", detail: "Payment refunded" });
    expect(settled(order)).toBe(true);
    expect(await ledger(orderId)).toEqual({
      "payment.authorize": 1,
      "payment.capture": 1,
      "payment.refund": 1,
      "shipping.ship": 1,
      "shipping.cancel": 1,
    });
  });
});

describe("a compensation is never lost to a status that moved between its read and its claim", () => {
  /** Holds the order's row lock while its status changes from `from` to `to` (uncommitted), starts a
   * compensation (it reads `from`, the last committed status), lets it reach its claim, which waits
   * for the lock (the only statement of this file's database that can), then commits: the claim runs
   * against `to`. */
  async function compensateAcross(orderId: string, from: OrderStatus, to: OrderStatus): Promise<boolean> {
    await prisma.$executeRaw`UPDATE "Order" SET "status" = ${from} WHERE "id" = ${orderId}`;
    const client = new pg.Client({ connectionString: config.DATABASE_URL });
    await client.connect();
    try {
      await client.query("BEGIN");
      await client.query(`UPDATE "Order" SET "status" = $1 WHERE "id" = $2`, [to, orderId]);
      const compensating = compensate(orderId, {
        status: "cancelled",
        reason: "Fraud screening rejected it",
      });
      await waitForOrder(
        async () => {
          const { rows } = await client.query<{ waiting: number }>(
            `SELECT count(*)::int AS "waiting" FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          return { status: `${rows[0]?.waiting ?? 0} waiting` };
        },
        (claim) => claim.status === "1 waiting",
      );
      await client.query("COMMIT");
      return await compensating;
    } finally {
      await client.end();
    }
  }

  for (const [from, to] of [
    ["placed", "needs_attention"],
    ["needs_attention", "placed"],
  ] as const) {
    it(`read ${from}, claimed ${to}: cancelled, voided, stock back`, async () => {
      const product = await createProduct({ stock: 5 });
      const placed = await callerFor().order.place(orderInput(product.id));
      expect(await compensateAcross(placed.id, from, to)).toBe(true);
      const order = await readOrder(placed.id)();
      expect(order.status).toBe("cancelled");
      expect(stepOf(order, "payment")).toMatchObject({
        status: "compensated",
        detail: "Authorization voided",
      });
      expect(await ledger(placed.id)).toEqual({ "payment.authorize": 1, "payment.void": 1 });
      expect(await stockOf(product.id)).toBe(5);
    });
  }

  it("read pending, confirmed meanwhile: the confirmation wins, nothing is undone", async () => {
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(orderInput(product.id));
    expect(await compensateAcross(placed.id, "pending", "placed")).toBe(false);
    const order = await readOrder(placed.id)();
    expect(order.status).toBe("placed");
    expect(stepOf(order, "payment").status).toBe("succeeded");
    expect(await ledger(placed.id)).toEqual({ "payment.authorize": 1 });
    expect(await stockOf(product.id)).toBe(4);
  });

  it("two compensations at once: one claims, the stock goes back once, one void", async () => {
    for (let round = 0; round < 5; round++) {
      const product = await createProduct({ stock: 5 });
      const placed = await callerFor().order.place(orderInput(product.id));
      const outcome = { status: "cancelled", reason: "Fraud screening rejected it" } as const;
      const claims = await Promise.all([compensate(placed.id, outcome), compensate(placed.id, outcome)]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      await waitForOrder(readOrder(placed.id), (order) => stepOf(order, "payment").status === "compensated");
      expect(await ledger(placed.id)).toEqual({ "payment.authorize": 1, "payment.void": 1 });
      expect(await stockOf(product.id)).toBe(5);
    }
  });
});
