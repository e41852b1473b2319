// A cancelled order's mailbox and timeline: fraud screening rejects an order after its receipt went
// out and its sale was recorded. The receipt stays (it is the "order received" email); a cancellation
// email and a sale reversal correct it, as compensating side effects: queued in async mode (retried,
// idempotent), run by the request in the synchronous modes, each sent exactly once.
import { randomUUID } from "node:crypto";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { type OrderView, QUEUE_ATTEMPTS } from "../server/contract";
import { deadLetters, retryDeadLetters, setPaused } from "../server/devtools/queues";
import { updateSettings } from "../server/downstream/settings";
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
beforeEach(async () => {
  await makeServicesFast();
  // Fraud screening answers after the receipt and the sale went out: the race this file is about.
  await updateSettings({ services: { fraud: { latencyMs: 300 } } });
});

const fraudster = () => ({ name: "Mallory", email: `fraud+${randomUUID().slice(0, 8)}@example.com` });
const settled = (order: OrderView) => order.settledAt !== null;
const timeOf = (order: OrderView, name: string, field: "startedAt" | "finishedAt") =>
  Date.parse(order.steps.find((step) => step.name === name)?.[field] ?? "");

/** Every provider record of the order: one receipt, one cancellation, one sale, one reversal. */
async function expectEachSentOnce(orderId: string) {
  expect(await downstreamCalls("email", "send", `${orderId}:receipt`)).toBe(1);
  expect(await downstreamCalls("email", "send", `${orderId}:cancellation`)).toBe(1);
  expect(await downstreamCalls("analytics", "track", `${orderId}:order_placed`)).toBe(1);
  expect(await downstreamCalls("analytics", "track", `${orderId}:order_reversed`)).toBe(1);
}

describe("async: fraud screening rejects after the receipt went out", () => {
  withWorkers();

  it("keeps the receipt, then corrects it: a cancellation email and a sale reversal, once each", async () => {
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(orderInput(product.id, { customer: fraudster() }));
    expect(placed.steps.map((step) => step.name)).not.toContain("cancellationEmail");

    const order = await waitForOrder(readOrder(placed.id), settled);
    expect(order.status).toBe("cancelled");
    expect(stepOf(order, "fraud").status).toBe("rejected");
    expect(stepOf(order, "email")).toMatchObject({ status: "succeeded" });
    expect(stepOf(order, "analytics")).toMatchObject({ status: "succeeded" });
    expect(stepOf(order, "cancellationEmail")).toMatchObject({
      status: "succeeded",
      attempts: 1,
      detail: `Cancellation sent to ${order.customer.email}`,
    });
    expect(stepOf(order, "saleReversal")).toMatchObject({
      status: "succeeded",
      detail: "Sale reversed: 1 unit",
    });
    // The timeline tells it in order: receipt, rejection, correction; the order settles after it.
    expect(timeOf(order, "email", "finishedAt")).toBeLessThanOrEqual(timeOf(order, "fraud", "finishedAt"));
    expect(timeOf(order, "cancellationEmail", "startedAt")).toBeGreaterThanOrEqual(
      timeOf(order, "fraud", "finishedAt"),
    );
    // Settled by the last compensation, not at the cancellation (two workers finishing at once may
    // stamp their times a few ms out of commit order, as any two steps may).
    expect(Date.parse(order.settledAt ?? "")).toBeGreaterThan(
      Math.max(timeOf(order, "cancellationEmail", "startedAt"), timeOf(order, "saleReversal", "startedAt")),
    );
    await expectEachSentOnce(order.id);
    expect(await stockOf(product.id)).toBe(5);

    // The mailbox holds both emails of the order, the cancellation after the receipt.
    const mail = (await callerFor().dev.mailbox()).filter((email) => email.orderId === order.id);
    expect(mail.map((email) => email.subject)).toEqual([
      `Your order ${order.id.slice(0, 8)} was cancelled`,
      `Your receipt for order ${order.id.slice(0, 8)}`,
    ]);
    expect(mail[0]?.text).toContain("Fraud screening rejected the order");
    expect(mail[0]?.text).toContain("Please disregard the earlier receipt");

    // The compensation delivered again (at least once): nothing is sent twice.
    await deliverAgain("cancellationEmail", order.id);
    expect((await readOrder(order.id)()).version).toBe(order.version);
    await expectEachSentOnce(order.id);
  });

  it("retries a cancellation email the provider failed, and sends it once", async () => {
    await updateSettings({ services: { fraud: { latencyMs: 600 } } });
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(orderInput(product.id, { customer: fraudster() }));
    await waitForOrder(readOrder(placed.id), (order) => stepOf(order, "email").status === "succeeded");
    // The email provider goes down after the receipt, before the cancellation.
    await updateSettings({ services: { email: { down: true } } });
    await waitForOrder(readOrder(placed.id), (order) =>
      order.steps.some((step) => step.name === "cancellationEmail" && step.status === "retrying"),
    );
    await updateSettings({ services: { email: { down: false } } });
    const order = await waitForOrder(readOrder(placed.id), settled);
    expect(stepOf(order, "cancellationEmail")).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(order.status).toBe("cancelled");
    await expectEachSentOnce(order.id);
  });

  it("corrects a receipt that was still being sent when the order was cancelled", async () => {
    await updateSettings({ services: { fraud: { latencyMs: 100 }, email: { latencyMs: 500 } } });
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(orderInput(product.id, { customer: fraudster() }));
    const order = await waitForOrder(readOrder(placed.id), settled);
    expect(order.status).toBe("cancelled");
    // The receipt finished after the verdict; its own change added the correction.
    expect(timeOf(order, "email", "finishedAt")).toBeGreaterThan(timeOf(order, "fraud", "finishedAt"));
    expect(stepOf(order, "cancellationEmail").status).toBe("succeeded");
    expect(timeOf(order, "cancellationEmail", "startedAt")).toBeGreaterThanOrEqual(
      timeOf(order, "email", "finishedAt"),
    );
    await expectEachSentOnce(order.id);
  });

  it("parks a cancellation email that keeps failing in the dead-letter set; a retry sends it", async () => {
    await updateSettings({ services: { fraud: { latencyMs: 600 } } });
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(orderInput(product.id, { customer: fraudster() }));
    await waitForOrder(readOrder(placed.id), (order) => stepOf(order, "email").status === "succeeded");
    await updateSettings({ services: { email: { down: true } } });
    const parked = await waitForOrder(
      readOrder(placed.id),
      (order) => order.steps.some((step) => step.name === "cancellationEmail" && step.status === "failed"),
      25_000,
    );
    // Cancelled, and not done: the correction waits for a person, as a live order's step would.
    expect(parked.status).toBe("cancelled");
    expect(parked.settledAt).toBeNull();
    expect(stepOf(parked, "cancellationEmail").attempts).toBe(QUEUE_ATTEMPTS);
    await updateSettings({ services: { email: { down: false } } });
    const [deadLetter] = (await deadLetters()).filter(
      (letter) => letter.queue === "cancellationEmail" && letter.orderId === placed.id,
    );
    expect(deadLetter).toBeDefined();
    expect(await retryDeadLetters("cancellationEmail", deadLetter?.jobId ?? "")).toBe(1);
    const order = await waitForOrder(readOrder(placed.id), settled);
    expect(stepOf(order, "cancellationEmail").status).toBe("succeeded");
    await expectEachSentOnce(order.id);
  }, 40_000);

  it("needs no correction when the receipt job comes after the cancellation: it is skipped", async () => {
    const product = await createProduct({ stock: 5 });
    await setPaused("email", true);
    let orderId = "";
    try {
      const placed = await callerFor().order.place(orderInput(product.id, { customer: fraudster() }));
      orderId = placed.id;
      await waitForOrder(readOrder(orderId), (order) => order.status === "cancelled");
    } finally {
      await setPaused("email", false);
    }
    const order = await waitForOrder(
      readOrder(orderId),
      (current) => settled(current) && stepOf(current, "email").status === "skipped",
    );
    expect(order.steps.map((step) => step.name)).not.toContain("cancellationEmail");
    expect(stepOf(order, "saleReversal").status).toBe("succeeded");
    expect(await downstreamCalls("email", "send", `${order.id}:receipt`)).toBe(0);
    expect(await downstreamCalls("email", "send", `${order.id}:cancellation`)).toBe(0);
    expect(await downstreamCalls("analytics", "track", `${order.id}:order_reversed`)).toBe(1);
  });
});

describe("the synchronous modes run the correction inline", () => {
  it("sync-parallel: the request answers once the receipt is corrected", async () => {
    const product = await createProduct({ stock: 5 });
    const order = await callerFor().order.place(
      orderInput(product.id, { mode: "sync-parallel", customer: fraudster() }),
    );
    expect(order.status).toBe("cancelled");
    expect(settled(order)).toBe(true);
    expect(stepOf(order, "cancellationEmail").status).toBe("succeeded");
    expect(stepOf(order, "saleReversal").status).toBe("succeeded");
    expect(Date.parse(order.confirmedAt ?? "")).toBeGreaterThanOrEqual(
      timeOf(order, "cancellationEmail", "finishedAt"),
    );
    await expectEachSentOnce(order.id);
  });

  it("sync: fraud screening runs first, so nothing needs correcting", async () => {
    const product = await createProduct({ stock: 5 });
    const order = await callerFor().order.place(
      orderInput(product.id, { mode: "sync", customer: fraudster() }),
    );
    expect(order.status).toBe("cancelled");
    expect(order.steps.map((step) => step.name)).not.toContain("cancellationEmail");
    expect(order.steps.map((step) => step.name)).not.toContain("saleReversal");
    expect(await downstreamCalls("email", "send", `${order.id}:receipt`)).toBe(0);
  });

  it("sync: a checkout that fails after the receipt corrects it before answering", async () => {
    await updateSettings({ services: { fraud: { latencyMs: 0 }, shipping: { down: true } } });
    const product = await createProduct({ stock: 5 });
    const input = orderInput(product.id, { mode: "sync" });
    await expect(callerFor().order.place(input)).rejects.toMatchObject({ code: "BAD_GATEWAY" });
    const order = await readOrder(input.idempotencyKey, "idempotencyKey")();
    expect(order.status).toBe("failed");
    expect(settled(order)).toBe(true);
    expect(stepOf(order, "cancellationEmail").status).toBe("succeeded");
    expect(stepOf(order, "saleReversal").status).toBe("succeeded");
    await expectEachSentOnce(order.id);
    const [cancellation] = (await callerFor().dev.mailbox()).filter(
      (email) => email.orderId === order.id && email.subject.includes("cancelled"),
    );
    // Fulfillment captured the payment before the shipment failed: the email says it was refunded.
    expect(cancellation?.text).toContain("Refunded");
  });
});
