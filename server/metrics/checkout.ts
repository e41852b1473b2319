// Time to answer a checkout, as the shopper lives it: from the request's arrival at the web process
// (server/main.ts notes it before anything else runs) to the answer, by mode and by how it ended.
import { performance } from "node:perf_hooks";
import { AppError, type AppErrorCode, type CheckoutMode } from "../contract";
import { type CheckoutOutcome, metrics } from "./registry";

const OUTCOME_OF: Partial<Record<AppErrorCode, CheckoutOutcome>> = {
  OUT_OF_STOCK: "declined",
  PAYMENT_DECLINED: "declined",
  BUSY: "refused",
  STILL_PROCESSING: "refused",
  TOO_MANY_REQUESTS: "refused",
  DEPENDENCY_FAILED: "failed",
  DATABASE_UNAVAILABLE: "failed",
};

export function checkoutOutcome(error: unknown): CheckoutOutcome {
  return (error instanceof AppError && OUTCOME_OF[error.code]) || "error";
}

/** Runs the checkout and observes its time to answer, whatever the answer. */
export async function timedCheckout<T>(
  arrivedAt: number,
  mode: CheckoutMode,
  checkout: () => Promise<T>,
): Promise<T> {
  const observe = (outcome: CheckoutOutcome) =>
    metrics.checkoutAnswer.observe({ mode, outcome }, (performance.now() - arrivedAt) / 1000);
  try {
    const answer = await checkout();
    observe("placed");
    return answer;
  } catch (error) {
    observe(checkoutOutcome(error));
    throw error;
  }
}
