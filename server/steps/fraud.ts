// Fraud screening: runs after the order is placed and may still reject it, which cancels the order
// (the runner voids the authorization and releases the stock).
import { callDownstream, orderCall } from "../downstream/simulate";
import type { StepOrder, StepOutcome } from "./types";

/** Orders above this are held as suspicious. */
const LARGE_ORDER_CENTS = 500_000;

/** The simulated provider's rule, kept obvious so a demo can trigger it: an email containing "fraud". */
function assess(order: StepOrder): { approved: boolean; score: number; reason: string | null } {
  if (/fraud/i.test(order.customer.email)) {
    return { approved: false, score: 97, reason: "the email address is on a watch list" };
  }
  if (order.totalCents > LARGE_ORDER_CENTS) {
    return { approved: false, score: 88, reason: "the order is unusually large" };
  }
  return { approved: true, score: 3 + (order.totalCents % 17), reason: null };
}

export const screening = (orderId: string) => orderCall("fraud", "screen", orderId);

export async function screenForFraud(order: StepOrder, deadline?: AbortSignal): Promise<StepOutcome> {
  const verdict = await callDownstream({ ...screening(order.id), deadline, perform: () => assess(order) });
  return verdict.approved
    ? { detail: `Passed, risk score ${verdict.score}` }
    : { reject: `Fraud screening rejected the order: ${verdict.reason}` };
}
