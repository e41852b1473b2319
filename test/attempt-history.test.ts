// Every attempt of a side effect is recorded on its step, by the statements that already record the
// step's changes, on real Postgres, Redis/BullMQ and workers: a step failing once then succeeding keeps
// two attempts with the backoff between them; one that ran out of attempts keeps when it was
// dead-lettered and when an operator replayed it; a compensation keeps when it undid each step.
import { randomUUID } from "node:crypto";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { stepTimeline, totalOf } from "../app/_lib/step-timeline";
import { type OrderView, QUEUE_ATTEMPTS, QUEUE_BACKOFF_MS, type StepName } from "../server/contract";
import { updateSettings } from "../server/downstream/settings";
import { sideEffectQueue } from "../server/queues";
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
beforeEach(makeServicesFast);

function step(order: OrderView, name: StepName) {
  const found = order.steps.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no ${name} step`);
  return found;
}

const ms = (iso: string | null) => (iso ? Date.parse(iso) : Number.NaN);

describe("attempt history", () => {
  it("a step failing once then succeeding records two attempts with the backoff between them", async () => {
    await updateSettings({ services: { email: { down: true } } });
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(orderInput(product.id, { mode: "async" }));
    await waitForOrder(readOrder(placed.id), (order) => step(order, "email").status === "retrying");
    // The outage ends during the backoff: the second attempt succeeds.
    await updateSettings({ services: { email: { down: false } } });
    const order = await waitForOrder(readOrder(placed.id), (current) => current.status === "completed");

    const email = step(order, "email");
    expect(email).toMatchObject({ status: "succeeded", attempts: 2, deadLetteredAt: null });
    const [first, second] = email.attemptHistory;
    expect(email.attemptHistory).toHaveLength(2);
    expect(first).toMatchObject({ outcome: "failed", error: "Email provider is down", backoffMs: null });
    expect(second).toMatchObject({ outcome: "succeeded", error: null, backoffMs: QUEUE_BACKOFF_MS });
    // The first delivery knows when its job was enqueued: at or after the confirmation, before its run.
    expect(ms(first?.queuedAt ?? null)).toBeGreaterThanOrEqual(ms(order.confirmedAt) - 5);
    expect(ms(first?.queuedAt ?? null)).toBeLessThanOrEqual(ms(first?.startedAt ?? null));
    // BullMQ holds the retry back for at least the backoff after the failure was recorded.
    const gap = ms(second?.startedAt ?? null) - ms(first?.finishedAt ?? null);
    expect(gap).toBeGreaterThanOrEqual(QUEUE_BACKOFF_MS);
    // The step's own fields still span both: first start to last finish.
    expect(email.startedAt).toBe(first?.startedAt);
    expect(email.finishedAt).toBe(second?.finishedAt);

    const timeline = stepTimeline(email, order.createdAt, Date.now());
    expect(timeline.segments.filter((segment) => segment.kind === "running")).toHaveLength(2);
    expect(totalOf(timeline, "backoff")).toBe(QUEUE_BACKOFF_MS);
    expect(totalOf(timeline, "backoff") + totalOf(timeline, "queued")).toBeGreaterThanOrEqual(gap - 1);

    // A step that ran once has one attempt.
    expect(step(order, "analytics").attemptHistory).toEqual([
      expect.objectContaining({ outcome: "succeeded", backoffMs: null }),
    ]);
  });

  it("a dead letter keeps when it was parked and when the operator replayed it", async () => {
    await updateSettings({ services: { analytics: { down: true } } });
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(orderInput(product.id, { mode: "async" }));
    const parked = await waitForOrder(
      readOrder(placed.id),
      (order) => step(order, "analytics").status === "failed",
      25_000,
    );
    const analytics = step(parked, "analytics");
    expect(analytics.attemptHistory.map((attempt) => attempt.outcome)).toEqual([
      ...Array.from({ length: QUEUE_ATTEMPTS - 1 }, () => "failed"),
      "dead-lettered",
    ]);
    expect(analytics.deadLetteredAt).toBe(analytics.attemptHistory.at(-1)?.finishedAt);

    await updateSettings({ services: { analytics: { down: false } } });
    const failedJobs = async () =>
      (await sideEffectQueue("analytics").getFailed()).filter((job) => job.data.orderId === placed.id);
    await expect.poll(async () => (await failedJobs()).length).toBe(1);
    const [job] = await failedJobs();
    const retriedBefore = Date.now();
    expect(await callerFor().dev.retryDeadLetter({ queue: "analytics", jobId: job?.id ?? "" })).toBe(1);
    const healed = await waitForOrder(readOrder(placed.id), (order) => order.status === "completed");

    const replayed = step(healed, "analytics");
    expect(ms(replayed.retriedByOperatorAt)).toBeGreaterThanOrEqual(retriedBefore);
    expect(ms(replayed.retriedByOperatorAt)).toBeLessThanOrEqual(
      ms(replayed.attemptHistory.at(-1)?.startedAt ?? null),
    );
    expect(replayed.attemptHistory.at(-1)).toMatchObject({ outcome: "succeeded" });
    expect(replayed.attemptHistory).toHaveLength(QUEUE_ATTEMPTS + 1);

    const timeline = stepTimeline(replayed, healed.createdAt, Date.now());
    expect(timeline.marks).toEqual([
      { kind: "operator-retry", atMs: ms(replayed.retriedByOperatorAt) - ms(healed.createdAt) },
    ]);
    const parkedStretch = timeline.segments.find((segment) => segment.kind === "dead-letter");
    expect(parkedStretch?.startMs).toBe(ms(replayed.deadLetteredAt) - ms(healed.createdAt));
    expect(parkedStretch?.endMs).toBe(timeline.marks[0]?.atMs);
  }, 40_000);

  it("a compensation records when it undid each step, after the step's own run", async () => {
    const product = await createProduct({ stock: 5 });
    const placed = await callerFor().order.place(
      orderInput(product.id, {
        mode: "async",
        customer: { name: "Mallory", email: `fraud+${randomUUID().slice(0, 6)}@example.com` },
      }),
    );
    // Cancelled by the claim, which leaves the void owed; undone once the gateway has answered too.
    const order = await waitForOrder(
      readOrder(placed.id),
      (current) => current.status === "cancelled" && step(current, "payment").status === "compensated",
    );
    const fraud = step(order, "fraud");
    expect(fraud.attemptHistory).toEqual([expect.objectContaining({ outcome: "rejected" })]);
    for (const name of ["inventory", "payment"] as const) {
      const undone = step(order, name);
      expect(undone.status).toBe("compensated");
      // Undone once the verdict was in: after the step's own run, and after fraud screening's.
      expect(ms(undone.compensatedAt)).toBeGreaterThanOrEqual(ms(undone.finishedAt));
      expect(ms(undone.compensatedAt)).toBeGreaterThanOrEqual(ms(fraud.finishedAt));
    }
    expect(step(order, "fulfillment").compensatedAt).toBeNull();
  });
});
