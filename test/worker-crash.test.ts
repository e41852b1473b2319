// A real worker process killed mid-step (SIGKILL) and one asked to stop (SIGTERM): the step is
// retried by another worker and its effect still happens exactly once; a graceful stop finishes
// the job in flight first.
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { updateSettings } from "../server/downstream/settings";
import {
  callerFor,
  closeConnections,
  createProduct,
  downstreamCalls,
  makeServicesFast,
  orderInput,
  readOrder,
  stepOf,
  waitForOrder,
} from "./helpers";
import { exitOf, startWorkerProcess } from "./processes";

beforeEach(makeServicesFast);
afterAll(closeConnections);

describe("worker process", () => {
  it("retries a step whose worker was SIGKILLed mid-call, and sends one email", async () => {
    const first = startWorkerProcess();
    await updateSettings({ services: { email: { latencyMs: 4000 } } });
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(orderInput(product.id));
    await waitForOrder(readOrder(placed.id), (order) => stepOf(order, "email").status === "running", 30_000);
    first.kill("SIGKILL");
    expect((await exitOf(first)).signal).toBe("SIGKILL");

    await updateSettings({ services: { email: { latencyMs: 0 } } });
    const second = startWorkerProcess();
    try {
      const order = await waitForOrder(
        readOrder(placed.id),
        (current) => current.status === "completed",
        30_000,
      );
      expect(stepOf(order, "email")).toMatchObject({ status: "succeeded", attempts: 2 });
      expect(await downstreamCalls("email", "send", `${placed.id}:receipt`)).toBe(1);
    } finally {
      second.kill("SIGTERM");
      await exitOf(second);
    }
  }, 60_000);

  it("lets the job in flight finish on SIGTERM, then exits cleanly", async () => {
    const worker = startWorkerProcess();
    await updateSettings({ services: { email: { latencyMs: 1500 } } });
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(orderInput(product.id));
    await waitForOrder(readOrder(placed.id), (order) => stepOf(order, "email").status === "running", 30_000);
    worker.kill("SIGTERM");
    expect(await exitOf(worker)).toEqual({ code: 0, signal: null });
    const order = await readOrder(placed.id)();
    expect(stepOf(order, "email")).toMatchObject({ status: "succeeded", attempts: 1 });
  }, 60_000);
});
