// A checkout's deadline bounds it whatever the knobs say, which is what lets the sweeper's grace outlast
// every live checkout by construction (server/config.ts refuses a grace that does not). Past the
// deadline the provider calls a checkout still waits for (its latency, or a free slot) are cut off
// before the provider did anything, no retry starts, and the order fails, compensated, by its own
// checkout: nothing is left for the sweeper to take for abandoned. This file runs with a 1.5 s deadline
// and a chaos soak's 10 s grace.
import { afterAll, beforeEach, describe, expect, it } from "vitest";

const DEADLINE_MS = 1500;
process.env.CHECKOUT_DEADLINE_MS = String(DEADLINE_MS);
process.env.SWEEPER_GRACE_MS = "10000";

// Imported after the environment holds this file's deadline.
const { config } = await import("../server/config");
const { updateSettings } = await import("../server/downstream/settings");
const {
  callerFor,
  closeConnections,
  createProduct,
  downstreamCalls,
  makeServicesFast,
  orderInput,
  readOrder,
  stepOf,
  stockOf,
} = await import("./helpers");

beforeEach(makeServicesFast);
afterAll(async () => {
  await closeConnections();
  delete process.env.CHECKOUT_DEADLINE_MS;
  delete process.env.SWEEPER_GRACE_MS;
});

/** The order was settled by its own checkout, failed for the deadline, by the time that checkout
 * answered: the sweeper (which says the checkout was interrupted) never had a live checkout to take. */
function expectFailedAtItsDeadline(order: {
  status: string;
  failureReason: string | null;
  settledAt: string | null;
}) {
  expect(order.status).toBe("failed");
  expect(order.failureReason).toContain("before the checkout's deadline");
  expect(order.settledAt).not.toBeNull();
}

describe("the checkout's deadline", () => {
  it("is the one this file set, and the grace outlasts it", () => {
    expect(config.CHECKOUT_DEADLINE_MS).toBe(DEADLINE_MS);
    expect(config.SWEEPER_GRACE_MS).toBe(10_000);
  });

  it("sync: cuts off a side effect the provider is still working on; the order fails, compensated", async () => {
    await updateSettings({ services: { fraud: { latencyMs: 8000 } } });
    const product = await createProduct({ stock: 5 });
    const input = orderInput(product.id, { mode: "sync" });
    await expect(callerFor().order.place(input)).rejects.toMatchObject({
      code: "BAD_GATEWAY",
      message: expect.stringContaining("did not answer before the checkout's deadline"),
    });
    const order = await readOrder(input.idempotencyKey, "idempotencyKey")();
    expectFailedAtItsDeadline(order);
    // Cut off before the provider did anything, and not tried again.
    expect(stepOf(order, "fraud")).toMatchObject({ status: "failed", attempts: 1 });
    expect(await downstreamCalls("fraud", "screen", order.id)).toBe(0);
    expect(stepOf(order, "payment")).toMatchObject({ status: "compensated", detail: "Authorization voided" });
    expect(await downstreamCalls("payment", "void", order.id)).toBe(1);
    expect(await stockOf(product.id)).toBe(5);
  });

  it("sync-parallel: cuts off a call still waiting for a free slot of its provider", async () => {
    // One slot, held by the first checkout's call until the deadline cuts it off too.
    await updateSettings({ services: { fraud: { latencyMs: 8000, capacity: 1 } } });
    const product = await createProduct({ stock: 5 });
    const inputs = [1, 2].map(() => orderInput(product.id, { mode: "sync-parallel" }));
    const answers = await Promise.all(
      inputs.map((input) =>
        callerFor()
          .order.place(input)
          .catch((error: unknown) => error),
      ),
    );
    for (const [index, answer] of answers.entries()) {
      expect(answer).toMatchObject({ message: expect.stringContaining("before the checkout's deadline") });
      const order = await readOrder(inputs[index]?.idempotencyKey ?? "", "idempotencyKey")();
      expectFailedAtItsDeadline(order);
      expect(await downstreamCalls("fraud", "screen", order.id)).toBe(0);
    }
    expect(await stockOf(product.id)).toBe(5);
  });

  it("async: cuts off the authorization itself; nothing held, nothing to void", async () => {
    await updateSettings({ services: { payment: { latencyMs: 8000 } } });
    const product = await createProduct({ stock: 5 });
    const input = orderInput(product.id);
    await expect(callerFor().order.place(input)).rejects.toMatchObject({
      code: "BAD_GATEWAY",
      message:
        "We could not reach the payment gateway (Payment gateway did not answer before the checkout's deadline). Nothing was charged.",
    });
    const order = await readOrder(input.idempotencyKey, "idempotencyKey")();
    expectFailedAtItsDeadline(order);
    expect(await downstreamCalls("payment", "authorize", order.id)).toBe(0);
    expect(await downstreamCalls("payment", "void", order.id)).toBe(0);
    expect(await stockOf(product.id)).toBe(5);
  });
});
