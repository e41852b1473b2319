// The critical path against the real Postgres and Redis: no oversell, idempotent checkout, payment
// failures that give the stock back, persisted step timings, and orders private to their session.
import { randomUUID } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { prisma } from "../server/db";
import { updateSettings } from "../server/downstream/settings";
import {
  callerFor,
  closeConnections,
  createProduct,
  downstreamCalls,
  makeServicesFast,
  orderInput,
  readOrder,
  stockOf,
} from "./helpers";

beforeEach(makeServicesFast);
afterAll(closeConnections);

function trpcCode(result: PromiseSettledResult<unknown>): string | null {
  return result.status === "rejected" && result.reason instanceof TRPCError ? result.reason.code : null;
}

describe("order.place", () => {
  it("sells exactly the available stock to 50 concurrent buyers", async () => {
    const product = await createProduct({ stock: 5 });
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => callerFor().order.place(orderInput(product.id))),
    );
    const placed = results.filter((result) => result.status === "fulfilled");
    const refused = results.filter((result) => trpcCode(result) === "CONFLICT");
    expect(placed).toHaveLength(5);
    expect(refused).toHaveLength(45);
    for (const result of refused) {
      expect(result.status === "rejected" && result.reason.message).toBe(`${product.name} is out of stock`);
    }
    expect(await stockOf(product.id)).toBe(0);
    const orders = await prisma.order.findMany({ where: { items: { some: { productId: product.id } } } });
    expect(orders).toHaveLength(5);
    expect(orders.every((order) => order.status === "placed")).toBe(true);
  });

  it("leaves everything untouched when one line of a multi-line order is short", async () => {
    const plenty = await createProduct({ stock: 10 });
    const scarce = await createProduct({ stock: 1 });
    const input = orderInput(plenty.id, {
      items: [
        { productId: plenty.id, quantity: 2 },
        { productId: scarce.id, quantity: 2 },
      ],
    });
    await expect(callerFor().order.place(input)).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await stockOf(plenty.id)).toBe(10);
    expect(await stockOf(scarce.id)).toBe(1);
    expect(await prisma.order.count({ where: { idempotencyKey: input.idempotencyKey } })).toBe(0);
  });

  it("turns 20 concurrent requests with one idempotency key into one order and one authorization", async () => {
    const product = await createProduct({ stock: 10 });
    const caller = callerFor();
    const input = orderInput(product.id);
    const results = await Promise.all(Array.from({ length: 20 }, () => caller.order.place(input)));
    const ids = new Set(results.map((order) => order.id));
    expect(ids.size).toBe(1);
    const [orderId] = ids;
    expect(await prisma.order.count({ where: { idempotencyKey: input.idempotencyKey } })).toBe(1);
    expect(await downstreamCalls("payment", "authorize", orderId ?? "")).toBe(1);
    expect(await stockOf(product.id)).toBe(9);
    // A later replay answers the same as well.
    expect((await caller.order.place(input)).id).toBe(orderId);
  });

  it("rejects a reused idempotency key with a different body", async () => {
    const product = await createProduct({ stock: 10 });
    const caller = callerFor();
    const input = orderInput(product.id);
    await caller.order.place(input);
    await expect(
      caller.order.place({ ...input, items: [{ productId: product.id, quantity: 2 }] }),
    ).rejects.toMatchObject({
      code: "UNPROCESSABLE_CONTENT",
      message: expect.stringContaining("already used"),
    });
    // Another session cannot take over the key either.
    await expect(callerFor().order.place(input)).rejects.toMatchObject({ code: "UNPROCESSABLE_CONTENT" });
    expect(await stockOf(product.id)).toBe(9);
  });

  it("computes prices and totals from the database", async () => {
    const product = await createProduct({ stock: 10, priceCents: 1999 });
    const order = await callerFor().order.place(
      orderInput(product.id, { items: [{ productId: product.id, quantity: 3 }] }),
    );
    expect(order.totalCents).toBe(3 * 1999);
    expect(order.items).toEqual([
      { productId: product.id, name: product.name, unitPriceCents: 1999, quantity: 3 },
    ]);
  });

  it("records the critical path: steps with timings, the confirmation time, a version", async () => {
    const product = await createProduct({ stock: 10 });
    const order = await callerFor().order.place(orderInput(product.id));
    expect(order.status).toBe("placed");
    const byName = Object.fromEntries(order.steps.map((step) => [step.name, step]));
    for (const name of ["inventory", "payment", "order"]) {
      expect(byName[name]).toMatchObject({ status: "succeeded", attempts: 1 });
      expect(Date.parse(byName[name]?.finishedAt ?? "")).toBeGreaterThanOrEqual(
        Date.parse(byName[name]?.startedAt ?? ""),
      );
    }
    expect(byName.payment?.detail).toMatch(/^Authorized auth_/);
    for (const name of ["fraud", "email", "analytics", "fulfillment"])
      expect(byName[name]?.status).toBe("pending");
    expect(Date.parse(order.confirmedAt ?? "")).toBeGreaterThanOrEqual(Date.parse(order.createdAt));
    expect(order.version).toBeGreaterThan(1);
  });

  it("gives the stock back and records a failed order when the gateway declines", async () => {
    await updateSettings({ services: { payment: { failureRate: 1 } } });
    const product = await createProduct({ stock: 4 });
    const input = orderInput(product.id, { items: [{ productId: product.id, quantity: 3 }] });
    const caller = callerFor();
    const error = await caller.order.place(input).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TRPCError);
    expect(error).toMatchObject({ code: "PAYMENT_REQUIRED", message: expect.stringContaining("declined") });
    expect(await stockOf(product.id)).toBe(4);
    const order = await readOrder(input.idempotencyKey, "idempotencyKey")();
    expect(order.status).toBe("failed");
    expect(order.failureReason).toContain("declined");
    expect(order.steps.find((step) => step.name === "payment")?.status).toBe("failed");
    expect(order.steps.find((step) => step.name === "inventory")?.status).toBe("compensated");
    expect(await prisma.outboxMessage.count({ where: { orderId: order.id } })).toBe(0);
    // A retry with the same key tells the same story and charges nothing.
    await expect(caller.order.place(input)).rejects.toMatchObject({ code: "PAYMENT_REQUIRED" });
    expect(await stockOf(product.id)).toBe(4);
  });

  it("says the gateway is unreachable when it is down, and restores the stock", async () => {
    await updateSettings({ services: { payment: { down: true } } });
    const product = await createProduct({ stock: 2 });
    await expect(callerFor().order.place(orderInput(product.id))).rejects.toMatchObject({
      code: "BAD_GATEWAY",
      message: expect.stringContaining("Payment gateway is down"),
    });
    expect(await stockOf(product.id)).toBe(2);
  });
});

describe("order.byId", () => {
  it("shows an order only to the session that placed it", async () => {
    const product = await createProduct({ stock: 3 });
    const owner = randomUUID();
    const order = await callerFor(owner).order.place(orderInput(product.id));
    expect((await callerFor(owner).order.byId({ orderId: order.id })).id).toBe(order.id);
    await expect(callerFor().order.byId({ orderId: order.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(
      callerFor(null as unknown as string).order.byId({ orderId: order.id }),
    ).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });
});
