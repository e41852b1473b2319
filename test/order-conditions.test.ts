// An order keeps the conditions it ran under (issue 24): the knobs in force at checkout and the preset
// they matched are stored with it by the checkout's own statement, read back unchanged after the knobs
// move on, and used to find an order of the other mode that ran under the same ones. A checkout's key
// finds its order for the session that placed it only. Real Postgres and Redis.
import { randomUUID } from "node:crypto";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { knobChanges, PRESETS } from "../server/contract";
import { replaceSettings, updateSettings } from "../server/downstream/settings";
import { FAST_SETTINGS } from "./file-stores";
import { callerFor, closeConnections, createProduct, orderInput } from "./helpers";

afterAll(closeConnections);
beforeEach(() => replaceSettings(FAST_SETTINGS));

describe("the conditions an order ran under", () => {
  it("are stored at checkout and read back after the knobs changed", async () => {
    await replaceSettings({ ...FAST_SETTINGS, services: PRESETS["email-outage"].services });
    const product = await createProduct({ stock: 5 });
    const caller = callerFor();
    const input = orderInput(product.id, { mode: "async" });
    const placed = await caller.order.place(input);
    expect(placed.conditions).toEqual({ preset: "email-outage", services: PRESETS["email-outage"].services });

    await replaceSettings({ ...FAST_SETTINGS, services: PRESETS.realistic.services });
    const read = await caller.order.byId({ orderId: placed.id });
    expect(read.conditions?.preset).toBe("email-outage");
    expect(read.conditions?.services.email.down).toBe(true);
  });

  it("say custom for knobs no preset has, in words relative to the nearest preset", async () => {
    await updateSettings({ services: { payment: { latencyMs: 300 } } });
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(orderInput(product.id, { mode: "async" }));
    expect(placed.conditions?.preset).toBe("custom");
    expect(knobChanges(placed.conditions?.services ?? FAST_SETTINGS.services)).toEqual([
      "Like All fast, except Payment gateway: 300 ms",
    ]);
    expect(knobChanges(PRESETS["email-outage"].services)).toEqual([
      "Like Realistic, except Email provider: down",
    ]);
    expect(knobChanges(PRESETS.realistic.services)).toEqual([]);
  });

  it("find the latest order of another mode under the same knobs and the same fraud verdict", async () => {
    const product = await createProduct({ stock: 10 });
    const caller = callerFor();
    const asyncOrder = await caller.order.place(orderInput(product.id, { mode: "async" }));
    const syncOrder = await caller.order.place(orderInput(product.id, { mode: "sync" }));
    // Another verdict, other knobs, another session: none of them is its twin.
    await caller.order.place(
      orderInput(product.id, {
        mode: "sync-parallel",
        customer: { name: "M", email: `fraud-${randomUUID()}@x.io` },
      }),
    );
    await callerFor().order.place(orderInput(product.id, { mode: "sync-parallel" }));
    await updateSettings({ services: { email: { latencyMs: 5 } } });
    await caller.order.place(orderInput(product.id, { mode: "sync-parallel" }));

    const related = await caller.order.related({ orderId: asyncOrder.id });
    expect(related.sameConditions.map(({ id, mode }) => ({ id, mode }))).toEqual([
      { id: syncOrder.id, mode: "sync" },
    ]);
    expect(asyncOrder.conditions).toEqual(syncOrder.conditions);
    // Its queue jobs: one per side effect the relay was handed (job id = outbox row id).
    expect(related.jobs.map((job) => job.step).sort()).toEqual(["analytics", "email", "fraud"]);
    await expect(callerFor().order.related({ orderId: asyncOrder.id })).rejects.toThrow("Order not found");
  });

  it("let a checkout's key find its order, for the session that placed it only", async () => {
    const product = await createProduct({ stock: 5 });
    const sessionId = randomUUID();
    const input = orderInput(product.id, { mode: "sync" });
    const placed = await callerFor(sessionId).order.place(input);
    expect((await callerFor(sessionId).order.byKey({ idempotencyKey: input.idempotencyKey })).id).toBe(
      placed.id,
    );
    await expect(callerFor().order.byKey({ idempotencyKey: input.idempotencyKey })).rejects.toThrow(
      "Order not found",
    );
    await expect(callerFor(sessionId).order.byKey({ idempotencyKey: "no" })).rejects.toThrow(/at least 8/);
  });
});
