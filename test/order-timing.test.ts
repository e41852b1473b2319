// The two clocks every page shows (app/_lib/order-timing.ts), on real orders from real checkouts in
// every mode and every ending: time to done is never shorter than time to answer, and the medians of a
// mode are taken over its completed orders only, with the others counted beside them.
import { randomUUID } from "node:crypto";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { summarizeModes } from "../app/_lib/order-timing";
import {
  answerOf,
  CHECKOUT_MODES,
  type CheckoutMode,
  isMoving,
  type OrderView,
  timeToAnswer,
  timeToDone,
} from "../server/contract";
import { updateSettings } from "../server/downstream/settings";
import {
  callerFor,
  closeConnections,
  createProduct,
  makeServicesFast,
  orderInput,
  readOrder,
  waitForOrder,
  withWorkers,
} from "./helpers";

afterAll(closeConnections);
withWorkers({ pollMs: 100 });
// Voiding or capturing a payment takes time, and so does every side effect: a sync checkout settles
// with its last step (or its compensation) and only then answers the shopper. Fast first: the file's
// own store starts with the realistic knobs, whose jitter (email ±300 ms) would stay under the latencies.
beforeEach(async () => {
  await makeServicesFast();
  await updateSettings({
    services: {
      payment: { latencyMs: 60 },
      fraud: { latencyMs: 40 },
      email: { latencyMs: 80 },
      analytics: { latencyMs: 20 },
      shipping: { latencyMs: 50 },
    },
  });
});

type Ending = "completed" | "cancelled" | "failed";

/** Places one order in `mode` that ends as `ending`, and returns it once it has settled. */
async function orderEnding(mode: CheckoutMode, ending: Ending): Promise<OrderView> {
  const product = await createProduct({ stock: 5 });
  const email = ending === "cancelled" ? `fraud+${randomUUID().slice(0, 6)}@x.io` : undefined;
  const input = orderInput(product.id, { mode, ...(email ? { customer: { name: "M", email } } : {}) });
  if (ending === "failed") await updateSettings({ services: { email: { down: true } } });
  try {
    await callerFor().order.place(input);
  } catch (error) {
    if (ending !== "failed") throw error;
  } finally {
    if (ending === "failed") await updateSettings({ services: { email: { down: false } } });
  }
  return waitForOrder(readOrder(input.idempotencyKey, "idempotencyKey"), (order) => order.settledAt !== null);
}

const ENDINGS: { mode: CheckoutMode; ending: Ending }[] = CHECKOUT_MODES.flatMap((mode) =>
  (["completed", "cancelled", "failed"] as const)
    // An async checkout does not wait for the email, so an email outage cannot fail it.
    .filter((ending) => !(mode === "async" && ending === "failed"))
    .map((ending) => ({ mode, ending })),
);

describe("time to done is never shorter than time to answer", () => {
  for (const { mode, ending } of ENDINGS) {
    it(`${mode}, ${ending}`, async () => {
      const order = await orderEnding(mode, ending);
      expect(order.status).toBe(ending);
      const answer = answerOf(order);
      const done = timeToDone(order);
      expect(answer, "every settled order has answered the shopper").not.toBeNull();
      expect(answer?.outcome).toBe(ending === "failed" ? "refused" : "confirmed");
      expect(done).not.toBeNull();
      expect(done ?? 0).toBeGreaterThanOrEqual(answer?.ms ?? Number.POSITIVE_INFINITY);
      expect(isMoving(order), "a settled order is not moving").toBe(false);
    });
  }
});

describe("medians per mode", () => {
  it("are taken over completed orders only; failed and cancelled ones are counted beside them", async () => {
    await updateSettings({ services: { email: { latencyMs: 400 } } });
    const orders = [
      await orderEnding("sync", "completed"),
      await orderEnding("sync", "cancelled"),
      await orderEnding("sync", "failed"),
    ];
    const [summary] = summarizeModes(orders);
    const completed = orders[0] as OrderView;
    expect(summary).toMatchObject({
      mode: "sync",
      total: 3,
      completed: 1,
      leftOut: [
        { status: "cancelled", count: 1 },
        { status: "failed", count: 1 },
      ],
    });
    // Stopping early, the other two answered well before the email's 400 ms: counting them would
    // have made sync look fast.
    expect(summary?.answer).toBe(timeToAnswer(completed));
    expect(summary?.done).toBe(timeToDone(completed));
    expect(summary?.answer ?? 0).toBeGreaterThan(400);
  });
});
