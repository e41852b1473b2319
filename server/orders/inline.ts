// A synchronous checkout: the request itself runs the side effects and waits for them, either one
// after another (latencies add up) or all at once (the longest chain wins). Same steps as the workers
// run, compensations included: an order undone after its receipt went out waits for the correction too.
import { setTimeout as sleep } from "node:timers/promises";
import {
  COMPENSATION_STEPS,
  FIRST_SIDE_EFFECTS,
  INLINE_ATTEMPTS,
  INLINE_BACKOFF_MS,
  PLANNED_SIDE_EFFECTS,
  QUEUED_MODES,
  type SideEffectStep,
  stepsAfter,
} from "../contract";
import { log, messageOf } from "../log";
import { leaveUndoOwed, UndoOwedError } from "./compensate";
import { type RunResult, runStep } from "./run";
import { findOrderView } from "./view";

export class InlineStepFailure extends Error {
  constructor(
    readonly step: SideEffectStep,
    readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

const inlineBackoffMs = (failures: number) => INLINE_BACKOFF_MS * 2 ** (failures - 1);

/** `deadline`: the checkout's (see server/checkout/place.ts). Once it has passed no attempt starts, and
 * the one running is cut off at its next provider call. */
async function runWithRetries(
  orderId: string,
  step: SideEffectStep,
  deadline?: AbortSignal,
): Promise<RunResult> {
  for (let number = 1; ; number++) {
    const last = number >= INLINE_ATTEMPTS || deadline?.aborted === true;
    const stepLog = log.child({ orderId, step, attempt: number });
    try {
      const backoffMs = number > 1 ? inlineBackoffMs(number - 1) : null;
      const result = await runStep(orderId, step, { number, last, backoffMs, deadline });
      stepLog.debug({ result }, `${step}: ${result} (inline)`);
      return result;
    } catch (error) {
      if (last && error instanceof UndoOwedError) {
        // The step's verdict undid the order and a provider keeps failing the undo: the shopper is
        // told now, the reconciler finishes the undo.
        leaveUndoOwed(error);
        return "rejected";
      }
      stepLog.warn({ error: messageOf(error), retry: !last }, `${step}: failed (inline)`);
      if (last || deadline?.aborted) throw new InlineStepFailure(step, error);
      await sleep(inlineBackoffMs(number), undefined, { signal: deadline }).catch(() => {
        throw new InlineStepFailure(step, error);
      });
    }
  }
}

/** Runs a step, then whatever waits on it (fulfillment waits on fraud screening). Resolves true when
 * a step of the chain rejected the order. */
async function runChain(orderId: string, step: SideEffectStep, deadline: AbortSignal): Promise<boolean> {
  const result = await runWithRetries(orderId, step, deadline);
  if (result === "succeeded" || result === "already-done") {
    const after = stepsAfter(step).map((next) => runChain(orderId, next, deadline));
    return (await Promise.all(after)).includes(true);
  }
  return result === "rejected";
}

/** Runs every planned side effect one after another (in PLANNED_SIDE_EFFECTS' order: a step after the
 * one it waits for), or all at once, then the compensations a rejection made due. Throws
 * InlineStepFailure naming the first side effect that broke (or that the deadline cut off). */
export async function runSideEffectsInline(
  orderId: string,
  parallel: boolean,
  deadline: AbortSignal,
): Promise<void> {
  let rejected = false;
  if (!parallel) {
    for (const step of PLANNED_SIDE_EFFECTS) {
      if ((await runWithRetries(orderId, step, deadline)) === "rejected") rejected = true;
    }
  } else {
    const results = await Promise.allSettled(
      FIRST_SIDE_EFFECTS.map((step) => runChain(orderId, step, deadline)),
    );
    const failure = results.find((result) => result.status === "rejected");
    if (failure) throw failure.reason;
    rejected = results.some((result) => result.status === "fulfilled" && result.value);
  }
  // Only a rejection may have undone the order: the happy path reads nothing more.
  if (rejected) await runCompensationsInline(orderId);
}

/** Runs the compensations an undone order of an inline mode is due, one after another. The order's
 * outcome is decided already: a compensation that keeps failing is recorded on its step, not thrown. */
export async function runCompensationsInline(orderId: string): Promise<void> {
  const order = await findOrderView({ id: orderId });
  // A queued mode's compensations went to the outbox with the change that added them.
  if (!order || QUEUED_MODES.includes(order.mode)) return;
  const due = COMPENSATION_STEPS.filter((name) =>
    order.steps.some((step) => step.name === name && step.status === "pending"),
  );
  for (const step of due) {
    await runWithRetries(orderId, step).catch((error: unknown) => {
      if (!(error instanceof InlineStepFailure)) throw error;
    });
  }
}
