// Runs one side effect for one order, in any mode: claims the step (one statement that also returns
// the order the step works on), calls the step, and records the outcome with whatever it causes next
// (one more statement). Safe to run again (BullMQ delivers at least once): a step that already
// succeeded is not redone, and every downstream call carries an idempotency key.
import {
  LIVE_ORDER_STATUSES,
  QUEUED_MODES,
  SETTLED_STEP_STATUSES,
  type SideEffectStep,
  STEP_STATUSES,
  STEPS,
  type StepStatus,
  stepsAfter,
  UNDONE_ORDER_STATUSES,
} from "../contract";
import { faultPoint } from "../faults";
import { metrics } from "../metrics/registry";
import { SIDE_EFFECTS } from "../steps/index";
import { changeOrder } from "./change";
import { compensate, finishUndos } from "./compensate";
import { cutOffSteps } from "./cut-off";
import { findOrderView } from "./view";

export interface Attempt {
  /** 1 for the first try. */
  number: number;
  /** No retry follows a failure of this attempt. */
  last: boolean;
  /** When its job could first be picked up (a queue's first delivery), if known. */
  queuedAt?: Date | null;
  /** The backoff waited before it, after the previous attempt failed. */
  backoffMs?: number | null;
  /** A synchronous checkout's deadline: the step's provider calls are cut off when it passes. */
  deadline?: AbortSignal;
  /** The queue job running it (its id is its outbox row's), if it runs from a queue. */
  jobId?: string;
}

export class OrderNotFoundError extends Error {}

/** Settled and not a failure: nothing left to run. */
const DONE: readonly StepStatus[] = SETTLED_STEP_STATUSES.filter((status) => status !== "failed");
/** A step may (re)start from these: a first try, a retry, a replay from the dead-letter set, or a
 * redelivery of a job whose worker died mid-run. */
const RUNNABLE: readonly StepStatus[] = ["pending", "retrying", "failed", "running"];
const UNSETTLED: readonly StepStatus[] = STEP_STATUSES.filter(
  (status) => !SETTLED_STEP_STATUSES.includes(status),
);

export type RunResult = "succeeded" | "rejected" | "already-done" | "skipped";

export async function runStep(orderId: string, step: SideEffectStep, attempt: Attempt): Promise<RunResult> {
  // A planned side effect works for a live order; a compensation for an undone one.
  const runsWhile = STEPS[step].phase === "compensation" ? UNDONE_ORDER_STATUSES : LIVE_ORDER_STATUSES;
  const startedAt = new Date();
  const order = await changeOrder(orderId, {
    when: { status: runsWhile, step, stepStatus: RUNNABLE },
    dispatches: attempt.jobId,
    steps: {
      [step]: {
        status: "running",
        attempts: attempt.number,
        startedAt,
        error: null,
        beginAttempt: { queuedAt: attempt.queuedAt ?? null, backoffMs: attempt.backoffMs ?? null, startedAt },
      },
    },
  });
  if (!order) return notRun(orderId, step);

  let outcome: Awaited<ReturnType<(typeof SIDE_EFFECTS)[SideEffectStep]>>;
  const attemptTimer = metrics.stepDuration.startTimer({ step });
  try {
    outcome = await SIDE_EFFECTS[step](order, attempt.deadline);
  } catch (error) {
    attemptTimer({ outcome: "failed" });
    // Past a checkout's deadline no retry follows either.
    const last = attempt.last || attempt.deadline?.aborted === true;
    if (!last) metrics.stepRetries.inc({ step });
    const message = error instanceof Error ? error.message : String(error);
    const finishedAt = new Date();
    // The last attempt of a queued side effect leaves its job in the dead-letter set.
    const deadLettered = attempt.last && QUEUED_MODES.includes(order.mode);
    await changeOrder(orderId, {
      when: { step, stepStatus: ["running"] },
      steps: {
        [step]: {
          status: last ? "failed" : "retrying",
          error: message,
          finishedAt,
          endAttempt: { outcome: deadLettered ? "dead-lettered" : "failed", finishedAt, error: message },
          ...(deadLettered ? { deadLetteredAt: finishedAt } : {}),
        },
      },
      // A queued side effect that exhausted its retries waits in the dead-letter set for a person.
      settle: true,
    });
    throw error;
  }

  attemptTimer({ outcome: "reject" in outcome ? "rejected" : "succeeded" });
  await faultPoint("step:outcome", { orderId, step });
  const finishedAt = new Date();
  if ("reject" in outcome) {
    // Throws when a provider did not undo its part: the job's retry finishes it (see notRun).
    await compensate(
      orderId,
      { status: "cancelled", reason: outcome.reject },
      {
        [step]: {
          status: "rejected",
          finishedAt,
          detail: outcome.reject,
          endAttempt: { outcome: "rejected", finishedAt, error: null },
        },
      },
    );
    return "rejected";
  }

  const finished = await changeOrder(orderId, {
    when: { step, stepStatus: ["running"] },
    steps: {
      [step]: {
        status: "succeeded",
        finishedAt,
        detail: outcome.detail,
        error: null,
        endAttempt: { outcome: "succeeded", finishedAt, error: null },
      },
    },
    // Queued mode hands the next steps to the outbox; inline modes run them from the checkout.
    outbox: QUEUED_MODES.includes(order.mode) ? stepsAfter(step) : [],
    settle: true,
  });
  // Another delivery of this job finished it first (its effects ran once: idempotency keys).
  return finished ? "succeeded" : "already-done";
}

/** A step whose worker died mid-call on an order undone meanwhile, as its provider has it. */
const CUT_OFF_WITH_ITS_WORKER = {
  done: "Done before its worker stopped",
  cutOff: "Cut off with its worker",
};

/** The claim did not apply: the step is done already, or the order was cancelled or failed meanwhile
 * (then the step is skipped), or the order does not exist, or never needed this compensation. */
async function notRun(orderId: string, step: SideEffectStep): Promise<RunResult> {
  const order = await findOrderView({ id: orderId });
  if (!order) throw new OrderNotFoundError(`order ${orderId} does not exist`);
  const status = order.steps.find((candidate) => candidate.name === step)?.status;
  if (!status) return "skipped";
  if (status === "rejected") {
    // This step's verdict undid the order, and this is its job again: a retry after the providers
    // failed the undo, which it now finishes (or fails again, to be retried again).
    await finishUndos(order);
    return "rejected";
  }
  if (DONE.includes(status)) return "already-done";
  if (STEPS[step].phase !== "compensation" && UNDONE_ORDER_STATUSES.includes(order.status)) {
    // Left running: BullMQ delivers a job again only once its worker's lock lapsed (the worker died
    // mid-call), so nobody else will record it. As its provider has it: an effect that landed on the
    // undone order owes its correction.
    await changeOrder(orderId, {
      steps: {
        [step]: { status: "skipped", finishedAt: new Date(), onlyFrom: ["pending", "retrying", "failed"] },
        ...(await cutOffSteps(order, [step], CUT_OFF_WITH_ITS_WORKER)),
      },
      settle: true,
    });
    return "skipped";
  }
  throw new Error(`order ${orderId} is ${order.status}: its ${step} step cannot run yet`);
}

/** A job BullMQ failed without our code seeing the last attempt (a job that stalled too often, its
 * worker crashing each time): record the step as failed so the order shows it needs attention.
 * `failedAt`, when known: when the job failed; an attempt begun since (a person's retry, already
 * running) is not this dead letter and is left alone. */
export async function recordDeadLetter(
  orderId: string,
  step: SideEffectStep,
  reason: string,
  failedAt?: Date,
): Promise<void> {
  const finishedAt = new Date();
  await changeOrder(orderId, {
    when: { step, stepStatus: UNSETTLED, attemptBegunBy: failedAt },
    steps: {
      [step]: {
        status: "failed",
        error: reason,
        finishedAt,
        endAttempt: { outcome: "dead-lettered", finishedAt, error: reason },
        deadLetteredAt: finishedAt,
      },
    },
    settle: true,
  });
}
