// Runs one side effect for one order, in any mode: records the attempt, calls the step, and records
// the outcome with whatever it causes next. Safe to run again (BullMQ delivers at least once): a step
// that already succeeded is not redone, and every downstream call carries an idempotency key.
import { SETTLED_STEP_STATUSES, type SideEffectStep, type StepStatus, stepsAfter } from "../contract";
import { prisma } from "../db";
import { compensate } from "../orders/compensate";
import { commitChange } from "../orders/state";
import { SIDE_EFFECTS } from "./index";
import { stepOrderSelect } from "./types";

export interface Attempt {
  /** 1 for the first try. */
  number: number;
  /** No retry follows a failure of this attempt. */
  last: boolean;
}

export class OrderNotFoundError extends Error {}

/** Settled and not a failure: nothing left to run. */
const DONE: readonly StepStatus[] = SETTLED_STEP_STATUSES.filter((status) => status !== "failed");

export type RunResult = "succeeded" | "rejected" | "already-done" | "skipped";

export async function runStep(orderId: string, step: SideEffectStep, attempt: Attempt): Promise<RunResult> {
  const order = await prisma.order.findUnique({
    where: { id: orderId },
    select: {
      ...stepOrderSelect,
      steps: { where: { name: step }, select: { status: true, startedAt: true } },
    },
  });
  if (!order) throw new OrderNotFoundError(`order ${orderId} does not exist`);
  const row = order.steps[0];
  if (!row) throw new OrderNotFoundError(`order ${orderId} has no ${step} step`);
  if (DONE.includes(row.status as StepStatus)) return "already-done";
  if (order.status === "cancelled" || order.status === "failed") {
    await commitChange(orderId, { steps: { [step]: { status: "skipped", finishedAt: new Date() } } });
    return "skipped";
  }

  await commitChange(orderId, {
    steps: {
      [step]: {
        status: "running",
        attempts: attempt.number,
        startedAt: row.startedAt ?? new Date(),
        error: null,
      },
    },
  });

  let outcome: Awaited<ReturnType<(typeof SIDE_EFFECTS)[SideEffectStep]>>;
  try {
    outcome = await SIDE_EFFECTS[step](order);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await commitChange(orderId, {
      steps: {
        [step]: { status: attempt.last ? "failed" : "retrying", error: message, finishedAt: new Date() },
      },
      // A queued side effect that exhausted its retries waits in the dead-letter set for a person.
      settle: true,
    });
    throw error;
  }

  if ("reject" in outcome) {
    await commitChange(orderId, {
      steps: { [step]: { status: "rejected", finishedAt: new Date(), detail: outcome.reject } },
    });
    await compensate(orderId, { status: "cancelled", reason: outcome.reject });
    return "rejected";
  }

  await commitChange(orderId, {
    steps: { [step]: { status: "succeeded", finishedAt: new Date(), detail: outcome.detail, error: null } },
    // Queued mode hands the next steps to the outbox; inline modes run them from the checkout.
    outbox: order.mode === "async" ? stepsAfter(step) : [],
    settle: true,
  });
  return "succeeded";
}

/** A job BullMQ failed without our code seeing the last attempt (a job that stalled too often, its
 * worker crashing each time): record the step as failed so the order shows it needs attention. */
export async function recordDeadLetter(orderId: string, step: SideEffectStep, reason: string): Promise<void> {
  const row = await prisma.orderStep.findUnique({
    where: { orderId_name: { orderId, name: step } },
    select: { status: true },
  });
  if (!row || SETTLED_STEP_STATUSES.includes(row.status as StepStatus)) return;
  await commitChange(orderId, {
    steps: { [step]: { status: "failed", error: reason, finishedAt: new Date() } },
    settle: true,
  });
}
