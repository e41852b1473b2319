// The worker process's log, as an operator's pipeline reads it: one JSON object per line on stdout, and
// every line about a job names its order, job, step and attempt, so one order can be followed from the
// checkout to its last side effect by a single field.
import { afterAll, beforeEach, expect, it, onTestFinished } from "vitest";
import { PLANNED_SIDE_EFFECTS } from "../server/contract";
import {
  callerFor,
  closeConnections,
  createProduct,
  makeServicesFast,
  orderInput,
  readOrder,
  waitForOrder,
} from "./helpers";
import { exitOf, startWorkerProcess } from "./processes";

beforeEach(makeServicesFast);
afterAll(closeConnections);

it("writes JSON lines carrying the orderId, jobId, step and attempt of each job it runs", async () => {
  // The worker runs the relay too: what earlier tests left in the outbox drains through it first.
  const worker = startWorkerProcess({ LOG_LEVEL: "debug", LOG_FORMAT: "json" }, { stdout: "pipe" });
  onTestFinished(() => {
    worker.kill("SIGKILL");
  });
  let output = "";
  worker.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });

  const product = await createProduct({ stock: 5 });
  const placed = await callerFor().order.place(orderInput(product.id, { mode: "async" }));
  await waitForOrder(readOrder(placed.id), (order) => order.status === "completed", 30_000);
  worker.kill("SIGTERM");
  expect((await exitOf(worker)).code).toBe(0);

  const lines = output.split("\n").filter((line) => line.trim() !== "");
  // Every line parses: nothing else (a stray console.log, a stack trace) is mixed into the stream.
  const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(entries.length).toBeGreaterThan(0);
  for (const entry of entries) {
    expect(entry).toMatchObject({ process: "worker", level: expect.any(Number), msg: expect.any(String) });
  }
  const aboutOrder = entries.filter((entry) => entry.orderId === placed.id);
  for (const entry of aboutOrder) {
    expect(entry).toMatchObject({
      jobId: expect.any(String),
      step: expect.any(String),
      attempt: expect.any(Number),
    });
  }
  // One line per job: each side effect ran once, on its first attempt.
  expect(aboutOrder.map((entry) => entry.step).sort()).toEqual([...PLANNED_SIDE_EFFECTS].sort());
  expect(aboutOrder.every((entry) => entry.attempt === 1 && entry.result === "succeeded")).toBe(true);
}, 60_000);
