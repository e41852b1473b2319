// Money and stock under the interleavings the chaos soak found, each driven on purpose through a fault
// point (server/faults.ts) rather than a sleep: a confirmation whose answer is lost after its commit, a
// fulfillment's provider call held in flight while the order is undone, a synchronous checkout whose
// last write is lost, a discard racing a reconciler sweep. Real Postgres, Redis, BullMQ and workers.
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { prisma } from "../server/db";
import { deadLetters, discardDeadLetter } from "../server/devtools/queues";
import { updateSettings } from "../server/downstream/settings";
import { type FaultPoints, onFaultPoint } from "../server/faults";
import { compensate } from "../server/orders/compensate";
import { sideEffectQueue } from "../server/queues";
import { type ReconcileResult, reconcileOnce } from "../server/repair/reconcile";
import {
  callerFor,
  closeConnections,
  createProduct,
  makeServicesFast,
  orderInput,
  readOrder,
  stepOf,
  stockOf,
  waitForOrder,
  withWorkers,
} from "./helpers";

beforeEach(makeServicesFast);
afterAll(closeConnections);
withWorkers();

/** What a dropped connection looks like to the checkout (pg's own message). */
const connectionLost = () => new Error("Connection terminated unexpectedly");

const removers: (() => void)[] = [];
afterEach(() => {
  for (const remove of removers.splice(0)) remove();
});
function atFaultPoint<Name extends keyof FaultPoints>(
  name: Name,
  hook: (context: FaultPoints[Name]) => void | Promise<void>,
): void {
  removers.push(onFaultPoint(name, hook));
}

/** A gate a held call waits at: `reached` resolves once the call arrived, `open` lets it go on. */
function latch() {
  let arrived = () => {};
  let open = () => {};
  const reached = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const hold = () => {
    arrived();
    return opened;
  };
  return { reached, open, hold };
}

/** The order's provider ledger, in the order the providers did things: ["payment.authorize", …]. */
async function ledger(orderId: string): Promise<string[]> {
  const calls = await prisma.downstreamCall.findMany({
    where: { idempotencyKey: orderId, service: { in: ["payment", "shipping"] } },
    orderBy: { createdAt: "asc" },
    select: { service: true, operation: true },
  });
  return calls.map(({ service, operation }) => `${service}.${operation}`);
}

/** Waits until the order's fulfillment job has finished for good (completed, or dead-lettered). */
async function fulfillmentJobFinished(orderId: string): Promise<void> {
  await waitForOrder(
    async () => {
      const jobs = await sideEffectQueue("fulfillment").getJobs(["completed", "failed"]);
      const job = jobs.find((candidate) => candidate?.data?.orderId === orderId);
      return { status: job ? "finished" : "not yet" };
    },
    (state) => state.status === "finished",
  );
}

describe("a queued checkout whose answer was lost after its confirmation committed", () => {
  it("leaves the order standing: its side effects run, nothing is undone, and a retry answers it", async () => {
    const product = await createProduct({ stock: 5 });
    const session = callerFor();
    const input = orderInput(product.id);
    let lost = false;
    atFaultPoint("checkout:confirmed", () => {
      if (lost) return;
      lost = true;
      throw connectionLost();
    });
    await expect(session.order.place(input)).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE" });
    const order = await waitForOrder(readOrder(input.idempotencyKey, "idempotencyKey"), (current) =>
      ["completed", "failed", "cancelled"].includes(current.status),
    );
    expect(order.status).toBe("completed");
    expect(await ledger(order.id)).toEqual(["payment.authorize", "payment.capture", "shipping.ship"]);
    expect(await stockOf(product.id)).toBe(4);
    // The shopper tries again with the same key: the placed order is the answer, nothing is bought twice.
    const retried = await session.order.place(input);
    expect(retried).toMatchObject({ id: order.id, status: "completed" });
    expect(await stockOf(product.id)).toBe(4);
  });
});

describe("an order undone while its fulfillment is at a provider", () => {
  /** Places an async order, holds its fulfillment's `operation` at the provider, undoes the order
   * meanwhile, lets the call go on, and returns the order and the stock once everything has finished. */
  async function undoneWhileHeld(service: string, operation: string) {
    const product = await createProduct({ stock: 5 });
    const gate = latch();
    atFaultPoint("provider:answering", (call) =>
      call.service === service && call.operation === operation ? gate.hold() : undefined,
    );
    const placed = await callerFor().order.place(orderInput(product.id));
    await gate.reached;
    expect(await compensate(placed.id, { status: "failed", reason: "Undone by a test" })).toBe(true);
    gate.open();
    await fulfillmentJobFinished(placed.id);
    const order = await waitForOrder(readOrder(placed.id), (current) => current.settledAt !== null);
    return { order, ledger: await ledger(placed.id), stock: await stockOf(product.id) };
  }

  it("ship in flight: the shipment is stopped, the capture refunded, the stock back", async () => {
    const { order, ledger, stock } = await undoneWhileHeld("shipping", "ship");
    expect(order.status).toBe("failed");
    // The carrier refused the shipment its cancellation had stopped; the capture was refunded.
    expect(ledger).toEqual(["payment.authorize", "payment.capture", "shipping.cancel", "payment.refund"]);
    expect(stepOf(order, "payment")).toMatchObject({ status: "compensated", detail: "Payment refunded" });
    expect(stepOf(order, "fulfillment").status).toBe("compensated");
    expect(stock).toBe(5);
  });

  it("capture in flight: the void lands first, the capture is refused, nothing ships", async () => {
    const { order, ledger, stock } = await undoneWhileHeld("payment", "capture");
    expect(order.status).toBe("failed");
    // Owed as a refund (the capture might land), done as the void the gateway's state called for.
    expect(ledger).toEqual(["payment.authorize", "shipping.cancel", "payment.void"]);
    expect(stepOf(order, "payment")).toMatchObject({ status: "compensated", detail: "Authorization voided" });
    expect(stock).toBe(5);
  });
});

describe("a synchronous checkout whose last write was lost", () => {
  it("is answered by its completed order on retry, never 'still processing', and nothing is undone", async () => {
    const product = await createProduct({ stock: 5 });
    const session = callerFor();
    const input = orderInput(product.id, { mode: "sync" });
    atFaultPoint("checkout:answering", () => {
      throw connectionLost();
    });
    await expect(session.order.place(input)).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE" });
    const retried = await session.order.place(input);
    expect(retried.status).toBe("completed");
    expect(await ledger(retried.id)).toEqual(["payment.authorize", "payment.capture", "shipping.ship"]);
    expect(await stockOf(product.id)).toBe(4);
  });
});

describe("discarding a fulfillment dead letter while a reconciler sweeps", () => {
  it("claims the order before the job goes: the sweep re-drives nothing, the capture is refunded once", async () => {
    await updateSettings({ services: { shipping: { down: true } } });
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(orderInput(product.id));
    const letter = await waitForOrder(
      async () => {
        const found = (await deadLetters()).find(
          (candidate) => candidate.queue === "fulfillment" && candidate.orderId === placed.id,
        );
        return { status: found ? "dead-lettered" : "not yet", jobId: found?.jobId ?? "" };
      },
      (found) => found.status === "dead-lettered",
      25_000,
    );
    await updateSettings({ services: { shipping: { down: false } } });
    let sweep: ReconcileResult | null = null;
    atFaultPoint("discard:claimed", async () => {
      sweep = await reconcileOnce({ graceMs: 0 });
    });
    expect(await discardDeadLetter("fulfillment", letter.jobId)).toBe(true);
    expect(sweep).not.toBeNull();
    const redriven = (sweep as ReconcileResult | null)?.redriven.filter(
      (drive) => drive.orderId === placed.id,
    );
    expect(redriven).toEqual([]);
    const order = await waitForOrder(readOrder(placed.id), (current) => current.settledAt !== null);
    expect(order.status).toBe("failed");
    expect(await ledger(placed.id)).toEqual(["payment.authorize", "payment.capture", "payment.refund"]);
    expect(await stockOf(product.id)).toBe(5);
  }, 40_000);
});
