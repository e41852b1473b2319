// The toggle: the same steps run in every mode; only whether the request waits changes.
// sync stacks the latencies, sync-parallel waits for the slowest, and a broken dependency fails a
// synchronous checkout as a whole (compensated: nothing charged, stock back).
import { randomUUID } from "node:crypto";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { prisma } from "../server/db";
import { updateSettings } from "../server/downstream/settings";
import { compensate } from "../server/orders/compensate";
import {
  callerFor,
  closeConnections,
  createProduct,
  downstreamCalls,
  makeServicesFast,
  orderInput,
  readOrder,
  stepOf,
  stockOf,
} from "./helpers";

beforeEach(makeServicesFast);
afterAll(closeConnections);

const LATENCIES = { fraud: 300, email: 600, analytics: 200, shipping: 400 };

async function useLatencies() {
  await updateSettings({
    services: Object.fromEntries(Object.entries(LATENCIES).map(([name, latencyMs]) => [name, { latencyMs }])),
  });
}

async function timedPlace(mode: "sync" | "sync-parallel" | "async") {
  const product = await createProduct({ stock: 5 });
  const started = performance.now();
  const order = await callerFor().order.place(orderInput(product.id, { mode }));
  return { order, elapsed: performance.now() - started };
}

describe("synchronous checkout", () => {
  it("sync runs the side effects one after another before answering: the latencies add up", async () => {
    await useLatencies();
    const { order, elapsed } = await timedPlace("sync");
    expect(order.status).toBe("completed");
    expect(order.mode).toBe("sync");
    expect(order.steps.every((step) => step.status === "succeeded")).toBe(true);
    const sum = LATENCIES.fraud + LATENCIES.email + LATENCIES.analytics + LATENCIES.shipping;
    expect(elapsed).toBeGreaterThanOrEqual(sum);
    expect(Date.parse(order.confirmedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(order.settledAt ?? ""));
    expect(await prisma.outboxMessage.count({ where: { orderId: order.id } })).toBe(0);
  });

  it("sync-parallel waits for the slowest chain only", async () => {
    await useLatencies();
    const { order, elapsed } = await timedPlace("sync-parallel");
    expect(order.status).toBe("completed");
    const slowest = Math.max(LATENCIES.fraud + LATENCIES.shipping, LATENCIES.email, LATENCIES.analytics);
    expect(elapsed).toBeGreaterThanOrEqual(slowest);
    // Not one after another: email and analytics started while fraud screening was still running
    // (sync would start each after the one before it finished); fulfillment waited for fraud.
    const at = (name: string, field: "startedAt" | "finishedAt") =>
      Date.parse(stepOf(order, name)[field] ?? "");
    expect(at("email", "startedAt")).toBeLessThan(at("fraud", "finishedAt"));
    expect(at("analytics", "startedAt")).toBeLessThan(at("fraud", "finishedAt"));
    expect(at("fulfillment", "startedAt")).toBeGreaterThanOrEqual(at("fraud", "finishedAt"));
  });

  it("async answers before any side effect has run", async () => {
    await useLatencies();
    const { order } = await timedPlace("async");
    expect(order.status).toBe("placed");
    expect(order.steps.filter((step) => step.status === "pending").map((step) => step.name)).toEqual([
      "fraud",
      "email",
      "analytics",
      "fulfillment",
    ]);
  });

  for (const mode of ["sync", "sync-parallel"] as const) {
    it(`${mode}: a broken dependency fails the whole checkout, compensated`, async () => {
      await updateSettings({ services: { email: { down: true } } });
      const product = await createProduct({ stock: 3 });
      const input = orderInput(product.id, { mode, items: [{ productId: product.id, quantity: 2 }] });
      const error = await callerFor()
        .order.place(input)
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({
        code: "BAD_GATEWAY",
        message: "Checkout failed because the email provider broke: Email provider is down.",
      });
      const order = await readOrder(input.idempotencyKey, "idempotencyKey")();
      expect(order.status).toBe("failed");
      expect(order.failureReason).toMatch(/Receipt email failed/);
      expect(stepOf(order, "email")).toMatchObject({ status: "failed", attempts: 2 });
      expect(stepOf(order, "payment").status).toBe("compensated");
      expect(await stockOf(product.id)).toBe(3);
      // Nothing stays charged: an authorization is voided, a capture (side by side, fulfillment may
      // have run before email broke) is refunded and its shipment cancelled.
      const captured = await downstreamCalls("payment", "capture", order.id);
      expect(await downstreamCalls("payment", "void", order.id)).toBe(1 - captured);
      expect(await downstreamCalls("payment", "refund", order.id)).toBe(captured);
      expect(await downstreamCalls("shipping", "cancel", order.id)).toBe(captured);
      if (mode === "sync") expect(captured).toBe(0);
    });
  }

  it("sync: fraud rejection answers with the cancelled order, stock back", async () => {
    const product = await createProduct({ stock: 2 });
    const order = await callerFor().order.place(
      orderInput(product.id, {
        mode: "sync",
        customer: { name: "M", email: `fraud+${randomUUID().slice(0, 6)}@x.io` },
      }),
    );
    expect(order.status).toBe("cancelled");
    expect(order.steps.find((step) => step.name === "fulfillment")?.status).toBe("skipped");
    expect(await stockOf(product.id)).toBe(2);
  });

  it("takes the mode from the console's default when the request names none", async () => {
    await updateSettings({ defaultMode: "sync" });
    const product = await createProduct({ stock: 2 });
    const order = await callerFor().order.place(orderInput(product.id, { mode: undefined }));
    expect(order.mode).toBe("sync");
    expect(order.status).toBe("completed");
  });
});

describe("compensation", () => {
  it("releases the stock exactly once however many times it runs", async () => {
    const product = await createProduct({ stock: 5 });
    const order = await callerFor().order.place(
      orderInput(product.id, { items: [{ productId: product.id, quantity: 2 }] }),
    );
    expect(await stockOf(product.id)).toBe(3);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => compensate(order.id, { status: "cancelled", reason: "test" })),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await stockOf(product.id)).toBe(5);
    expect(await downstreamCalls("payment", "void", order.id)).toBe(1);
    expect((await readOrder(order.id)()).status).toBe("cancelled");
  });
});

describe("abandoned checkouts", () => {
  it("are compensated by the sweeper: stock back, authorization voided", async () => {
    const { sweepAbandonedCheckouts } = await import("../server/repair/sweeper");
    const product = await createProduct({ stock: 4 });
    const order = await callerFor().order.place(
      orderInput(product.id, { items: [{ productId: product.id, quantity: 3 }] }),
    );
    // As a web process that died while the gateway was answering would have left it.
    await prisma.order.update({
      where: { id: order.id },
      data: { status: "pending", confirmedAt: null, createdAt: new Date(Date.now() - 10 * 60_000) },
    });
    await prisma.$executeRaw`UPDATE "Order"
      SET "steps" = jsonb_set(jsonb_set("steps", '{payment,status}', '"running"'), '{order,status}', '"pending"')
      WHERE "id" = ${order.id}`;
    expect(await stockOf(product.id)).toBe(1);
    expect(await sweepAbandonedCheckouts()).toBeGreaterThanOrEqual(1);
    const swept = await readOrder(order.id)();
    expect(swept.status).toBe("failed");
    expect(swept.failureReason).toMatch(/interrupted/);
    expect(await stockOf(product.id)).toBe(4);
    expect(await downstreamCalls("payment", "void", order.id)).toBe(1);
    expect(await sweepAbandonedCheckouts()).toBe(0);
    expect(await stockOf(product.id)).toBe(4);
  });
});
