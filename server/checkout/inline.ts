// A synchronous checkout: the request itself runs the side effects and waits for them, either one
// after another (latencies add up) or all at once (the longest chain wins). Same steps as the workers run.
import { setTimeout as sleep } from "node:timers/promises";
import {
  FIRST_SIDE_EFFECTS,
  INLINE_ATTEMPTS,
  INLINE_BACKOFF_MS,
  SIDE_EFFECT_STEPS,
  type SideEffectStep,
  stepsAfter,
} from "../contract";
import { type RunResult, runStep } from "../steps/run";

export class InlineStepFailure extends Error {
  constructor(
    readonly step: SideEffectStep,
    readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

async function runWithRetries(orderId: string, step: SideEffectStep): Promise<RunResult> {
  for (let number = 1; ; number++) {
    const last = number >= INLINE_ATTEMPTS;
    try {
      return await runStep(orderId, step, { number, last });
    } catch (error) {
      if (last) throw new InlineStepFailure(step, error);
      await sleep(INLINE_BACKOFF_MS * 2 ** (number - 1));
    }
  }
}

/** Runs a step, then whatever waits on it (fulfillment waits on fraud screening). */
async function runChain(orderId: string, step: SideEffectStep): Promise<void> {
  const result = await runWithRetries(orderId, step);
  if (result === "succeeded" || result === "already-done") {
    await Promise.all(stepsAfter(step).map((next) => runChain(orderId, next)));
  }
}

/** Runs every side effect one after another (in SIDE_EFFECT_STEPS' order: a step after the one it
 * waits for), or all at once. Throws InlineStepFailure naming the first side effect that broke. */
export async function runSideEffectsInline(orderId: string, parallel: boolean): Promise<void> {
  if (!parallel) {
    for (const step of SIDE_EFFECT_STEPS) await runWithRetries(orderId, step);
    return;
  }
  const results = await Promise.allSettled(FIRST_SIDE_EFFECTS.map((step) => runChain(orderId, step)));
  const failure = results.find((result) => result.status === "rejected");
  if (failure) throw failure.reason;
}
