import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { prisma } from "../server/db";
import { discardDeadLetter } from "../server/devtools/queues";
import { updateSettings } from "../server/downstream/settings";
import { onFaultPoint } from "../server/faults";
import { compensate } from "../server/orders/compensate";
import { runStep } from "../server/orders/run";
import { sideEffectQueue } from "../server/queues";
import { sweepAbandonedCheckouts } from "../server/repair/sweeper";
import { startSideEffectWorkers } from "../workers/side-effects";
import {
  callerFor,
  closeConnections,
  createProduct,
  downstreamCalls,
  makeServicesFast,
  orderIdOf,
  orderInput,
  readOrder,
  stepOf,
  stockOf,
  waitForOrder,
} from "./helpers";

beforeEach(makeServicesFast);
afterAll(closeConnections);

describe("races", () => {
  it("a side effect failing after fraud cancelled the order leaves it cancelled", async () => {
    const product = await createProduct({ stock: 5 });
    const order = await callerFor().order.place(orderInput(product.id));
    await updateSettings({ services: { email: { latencyMs: 300, failureRate: 1 } } });
    const emailing = runStep(order.id, "email", { number: 4, last: true }).catch((error: unknown) => error);
    await waitForOrder(readOrder(order.id), (current) => stepOf(current, "email").status === "running");
    await compensate(order.id, { status: "cancelled", reason: "Fraud screening rejected the order: test" });
    expect(await emailing).toBeInstanceOf(Error);
    const after = await readOrder(order.id)();
    expect(after.status).toBe("cancelled");
    expect(stepOf(after, "email").status).toBe("failed");
    expect(await stockOf(product.id)).toBe(5);
  });

  it("a checkout the sweeper gave up on cannot come back as placed", async () => {
    const product = await createProduct({ stock: 5 });
    const input = orderInput(product.id, { items: [{ productId: product.id, quantity: 2 }] });
    // The checkout hangs on the gateway (held at the provider) long past the sweeper's grace period.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const removeHook = onFaultPoint("provider:answering", ({ service, operation }) =>
      service === "payment" && operation === "authorize" ? held : undefined,
    );
    try {
      const placing = callerFor()
        .order.place(input)
        .catch((error: unknown) => error);
      await orderIdOf(input.idempotencyKey);
      await prisma.order.update({
        where: { idempotencyKey: input.idempotencyKey },
        data: { createdAt: new Date(Date.now() - 3_600_000) },
      });
      expect(await sweepAbandonedCheckouts()).toBeGreaterThanOrEqual(1);
      // The gateway answers at last: the sweeper's void came first, so the authorization is refused.
      release();
      expect(await placing).toMatchObject({
        code: "BAD_GATEWAY",
        message: expect.stringContaining("took too long"),
      });
    } finally {
      removeHook();
    }
    const order = await prisma.order.findUniqueOrThrow({ where: { idempotencyKey: input.idempotencyKey } });
    expect(order.status).toBe("failed");
    expect(await stockOf(product.id)).toBe(5);
    expect(await prisma.outboxMessage.count({ where: { orderId: order.id } })).toBe(0);
    expect(await downstreamCalls("payment", "authorize", order.id)).toBe(0);
    expect(await downstreamCalls("payment", "void", order.id)).toBe(1);
  });

  it("a synchronous checkout cut off while running its side effects is swept", async () => {
    const product = await createProduct({ stock: 5 });
    const order = await callerFor().order.place(orderInput(product.id, { mode: "sync" }));
    // As a web process that died mid-way would have left it: placed, never answered.
    await prisma.order.update({
      where: { id: order.id },
      data: {
        status: "placed",
        confirmedAt: null,
        settledAt: null,
        createdAt: new Date(Date.now() - 3_600_000),
      },
    });
    expect(await sweepAbandonedCheckouts()).toBeGreaterThanOrEqual(1);
    expect((await readOrder(order.id)()).status).toBe("failed");
    expect(await stockOf(product.id)).toBe(5);
  });
});

/** As a web process that died while its synchronous checkout was sending the receipt would have left
 * the order: placed, never answered, the email running, analytics and fulfillment not started (their
 * providers, ledgers and state machines alike, never heard of them). */
async function cutOffWhileEmailing(orderId: string): Promise<void> {
  await prisma.order.update({
    where: { id: orderId },
    data: {
      status: "placed",
      confirmedAt: null,
      settledAt: null,
      createdAt: new Date(Date.now() - 3_600_000),
    },
  });
  // The email's attempt is open, as its claim left it.
  await prisma.$executeRaw`UPDATE "Order" SET "steps" = "steps"
      || jsonb_build_object('email', "steps" -> 'email' || jsonb_build_object('status', 'running',
        'attemptHistory', jsonb_build_array("steps" #> '{email,attemptHistory,-1}'
          || '{"finishedAt": null, "outcome": null}'::jsonb)))
      || jsonb_build_object('analytics', "steps" -> 'analytics' || '{"status": "pending"}'::jsonb)
      || jsonb_build_object('fulfillment', "steps" -> 'fulfillment' || '{"status": "pending"}'::jsonb)
    WHERE "id" = ${orderId}`;
  await prisma.downstreamCall.deleteMany({
    where: {
      OR: [
        { service: "analytics", idempotencyKey: `${orderId}:order_placed` },
        { service: "payment", operation: "capture", idempotencyKey: orderId },
        { service: "shipping", idempotencyKey: orderId },
      ],
    },
  });
  // The gateway holds the authorization only; the carrier never heard of the order.
  await prisma.providerState.update({
    where: { service_subject: { service: "payment", subject: orderId } },
    data: { state: "authorized" },
  });
  await prisma.providerState.deleteMany({ where: { service: "shipping", subject: orderId } });
}

describe("a side effect cut off with its checkout", () => {
  it("counts as done when its provider did it: the receipt that went out is corrected, the order settles", async () => {
    const product = await createProduct({ stock: 5 });
    const order = await callerFor().order.place(orderInput(product.id, { mode: "sync" }));
    await cutOffWhileEmailing(order.id);
    expect(await sweepAbandonedCheckouts()).toBeGreaterThanOrEqual(1);

    const swept = await readOrder(order.id)();
    expect(swept.status).toBe("failed");
    expect(stepOf(swept, "email")).toMatchObject({
      status: "succeeded",
      detail: "Done before the checkout was interrupted",
    });
    // Finished when the provider sent it, not when the sweeper came by.
    const sent = await prisma.downstreamCall.findFirstOrThrow({
      where: { service: "email", idempotencyKey: `${order.id}:receipt` },
    });
    const email = swept.steps.find((step) => step.name === "email");
    expect(email?.finishedAt).toBe(sent.createdAt.toISOString());
    expect(email?.attemptHistory.at(-1)).toMatchObject({
      outcome: "succeeded",
      finishedAt: sent.createdAt.toISOString(),
    });
    expect(stepOf(swept, "cancellationEmail").status).toBe("succeeded");
    expect(await downstreamCalls("email", "send", `${order.id}:cancellation`)).toBe(1);
    expect(stepOf(swept, "analytics").status).toBe("skipped");
    expect(stepOf(swept, "payment").status).toBe("compensated");
    expect(await downstreamCalls("payment", "void", order.id)).toBe(1);
    expect(swept.settledAt).not.toBeNull();
    expect(await stockOf(product.id)).toBe(5);
  });

  it("counts as skipped when its provider never did it: nothing to correct, the order settles", async () => {
    const product = await createProduct({ stock: 5 });
    const order = await callerFor().order.place(orderInput(product.id, { mode: "sync" }));
    await cutOffWhileEmailing(order.id);
    await prisma.downstreamCall.deleteMany({
      where: { service: "email", idempotencyKey: `${order.id}:receipt` },
    });
    expect(await sweepAbandonedCheckouts()).toBeGreaterThanOrEqual(1);

    const swept = await readOrder(order.id)();
    expect(swept.status).toBe("failed");
    const email = swept.steps.find((step) => step.name === "email");
    expect(email).toMatchObject({ status: "skipped", detail: null });
    expect(email?.attemptHistory.at(-1)).toMatchObject({
      outcome: "failed",
      error: "Cut off with the checkout",
    });
    expect(swept.steps.some((step) => step.name === "cancellationEmail")).toBe(false);
    expect(await downstreamCalls("email", "send", `${order.id}:cancellation`)).toBe(0);
    expect(swept.settledAt).not.toBeNull();
    expect(await stockOf(product.id)).toBe(5);
  });
});

describe("an undone synchronous order whose checkout broke off mid-step", () => {
  it("is settled by the sweeper: a step cut off running is recorded as its provider has it, a correction not sent is sent", async () => {
    const product = await createProduct({ stock: 5 });
    const order = await callerFor().order.place(orderInput(product.id, { mode: "sync" }));
    // As a Postgres crash between a correction's claim and its outcome leaves a failed order: its
    // cancellation email running (claimed, never sent), the order never settled.
    await prisma.$executeRaw`UPDATE "Order" SET "status" = 'failed', "settledAt" = NULL,
        "createdAt" = now() - interval '1 hour',
        "steps" = "steps" || jsonb_build_object('cancellationEmail', ("steps" -> 'email')
          || '{"status": "running", "detail": null, "attempts": 1, "attemptHistory": []}'::jsonb)
      WHERE "id" = ${order.id}`;
    await prisma.downstreamCall.deleteMany({
      where: { service: "email", idempotencyKey: `${order.id}:cancellation` },
    });
    await sweepAbandonedCheckouts();
    const settled = await readOrder(order.id)();
    expect(settled.settledAt).not.toBeNull();
    expect(stepOf(settled, "cancellationEmail").status).toBe("succeeded");
    expect(await downstreamCalls("email", "send", `${order.id}:cancellation`)).toBe(1);
  });
});

describe("a synchronous checkout that never recorded a step's outcome", () => {
  it("fails its order unsettled, and the sweeper records the step as its provider has it", async () => {
    const product = await createProduct({ stock: 5 });
    const input = orderInput(product.id, { mode: "sync" });
    // As a Postgres crash right after fraud screening answered: its outcome is never written.
    const removeHook = onFaultPoint("step:outcome", ({ step }) => {
      if (step === "fraud") throw new Error("Connection terminated unexpectedly");
    });
    try {
      await expect(callerFor().order.place(input)).rejects.toThrow();
    } finally {
      removeHook();
    }
    const failed = await readOrder(input.idempotencyKey, "idempotencyKey")();
    expect(failed.status).toBe("failed");
    expect(stepOf(failed, "fraud").status).toBe("running");
    // Not settled while a step is left running: settling it is the sweeper's.
    expect(failed.settledAt).toBeNull();
    expect(await stockOf(product.id)).toBe(5);
    await prisma.order.update({
      where: { id: failed.id },
      data: { createdAt: new Date(Date.now() - 3_600_000) },
    });
    await sweepAbandonedCheckouts();
    const settled = await readOrder(failed.id)();
    expect(stepOf(settled, "fraud")).toMatchObject({
      status: "succeeded",
      detail: "Done before the checkout was interrupted",
    });
    expect(settled.settledAt).not.toBeNull();
    expect(await downstreamCalls("fraud", "screen", failed.id)).toBe(1);
  });
});

describe("a queued step whose worker died mid-call on an order undone meanwhile", () => {
  /** Runs the email as a worker that stops at `point` and never comes back (until `die`, which fails it
   * there, as the end of its process would), then undoes the order as a fraud verdict does. */
  async function emailCutOff(point: "provider:answering" | "step:outcome") {
    const product = await createProduct({ stock: 5 });
    const order = await callerFor().order.place(orderInput(product.id));
    let die = () => {};
    const dead = new Promise<void>((_, reject) => {
      die = () => reject(new Error("worker process gone"));
    });
    dead.catch(() => {});
    const removeHook =
      point === "provider:answering"
        ? onFaultPoint(point, ({ service }) => (service === "email" ? dead : undefined))
        : onFaultPoint(point, ({ step }) => (step === "email" ? dead : undefined));
    const dying = runStep(order.id, "email", { number: 1, last: false }).catch((error: unknown) => error);
    await waitForOrder(readOrder(order.id), (current) => stepOf(current, "email").status === "running");
    await compensate(order.id, { status: "cancelled", reason: "Fraud screening rejected the order: test" });
    return {
      order,
      product,
      end: async () => {
        die();
        removeHook();
        expect(await dying).toBeInstanceOf(Error);
      },
    };
  }

  it("is skipped by its job's redelivery when the provider never did it, and the order settles", async () => {
    const { order, product, end } = await emailCutOff("provider:answering");
    try {
      expect(await runStep(order.id, "email", { number: 2, last: false })).toBe("skipped");
      const after = await readOrder(order.id)();
      expect(stepOf(after, "email").status).toBe("skipped");
      expect(stepOf(after, "email").attemptHistory.at(-1)).toMatchObject({
        outcome: "failed",
        error: "Cut off with its worker",
      });
      expect(after.steps.some((step) => step.name === "cancellationEmail")).toBe(false);
      expect(after.settledAt).not.toBeNull();
    } finally {
      await end();
    }
    expect(await downstreamCalls("email", "send", `${order.id}:receipt`)).toBe(0);
    expect(await stockOf(product.id)).toBe(5);
  });

  it("is recorded done by its redelivery when the provider did it, and the receipt owes its correction", async () => {
    const { order, end } = await emailCutOff("step:outcome");
    try {
      expect(await runStep(order.id, "email", { number: 2, last: false })).toBe("skipped");
      const after = await readOrder(order.id)();
      expect(stepOf(after, "email")).toMatchObject({
        status: "succeeded",
        detail: "Done before its worker stopped",
      });
      expect(stepOf(after, "cancellationEmail").status).toBe("pending");
      expect(after.settledAt).toBeNull();
    } finally {
      await end();
    }
    expect(await downstreamCalls("email", "send", `${order.id}:receipt`)).toBe(1);
    expect(await runStep(order.id, "cancellationEmail", { number: 1, last: false })).toBe("succeeded");
    expect((await readOrder(order.id)()).settledAt).not.toBeNull();
  });
});

describe("compensation after a capture", () => {
  it("refunds (not voids) when shipping breaks after fulfillment captured the payment", async () => {
    await updateSettings({ services: { shipping: { down: true } } });
    const product = await createProduct({ stock: 3 });
    const input = orderInput(product.id, { mode: "sync" });
    await expect(callerFor().order.place(input)).rejects.toMatchObject({ code: "BAD_GATEWAY" });
    const order = await readOrder(input.idempotencyKey, "idempotencyKey")();
    expect(await downstreamCalls("payment", "capture", order.id)).toBe(1);
    expect(await downstreamCalls("payment", "refund", order.id)).toBe(1);
    expect(await downstreamCalls("payment", "void", order.id)).toBe(0);
    expect(stepOf(order, "payment").detail).toBe("Payment refunded");
    expect(await stockOf(product.id)).toBe(3);
  });
});

describe("discarding a dead letter", () => {
  it("of fraud screening fails the order: it must not ship unscreened, nor keep the money held", async () => {
    const product = await createProduct({ stock: 3 });
    const order = await callerFor().order.place(orderInput(product.id));
    for (const step of ["email", "analytics"] as const) {
      await runStep(order.id, step, { number: 1, last: true });
    }
    await updateSettings({ services: { fraud: { down: true } } });
    // One attempt only, so the job lands in the dead-letter set at once.
    const job = await sideEffectQueue("fraud").add(
      "fraud",
      { orderId: order.id, step: "fraud" },
      { attempts: 1 },
    );
    const workers = startSideEffectWorkers();
    try {
      await waitForOrder(readOrder(order.id), (current) => current.status === "needs_attention");
    } finally {
      await workers.stop();
    }
    expect(await discardDeadLetter("fraud", job.id ?? "")).toBe(true);
    const after = await readOrder(order.id)();
    expect(stepOf(after, "fraud")).toMatchObject({
      status: "skipped",
      detail: "Discarded from the dead-letter set by a developer",
    });
    expect(stepOf(after, "fulfillment").status).toBe("skipped");
    expect(after.status).toBe("failed");
    expect(after.failureReason).toContain("Fraud screening was given up on");
    expect(stepOf(after, "payment")).toMatchObject({ status: "compensated", detail: "Authorization voided" });
    expect(await downstreamCalls("payment", "void", order.id)).toBe(1);
    expect(await downstreamCalls("payment", "capture", order.id)).toBe(0);
    expect(await stockOf(product.id)).toBe(3);
  });
});
