// Each side effect, written once and used by every mode: the worker runs it from its queue, a
// synchronous checkout runs it inline. The table is keyed by the contract's step names.
import type { SideEffectStep } from "../contract";
import { recordSale, reverseSale } from "./analytics";
import { sendCancellation, sendReceipt } from "./email";
import { screenForFraud } from "./fraud";
import { fulfill } from "./fulfillment";
import type { StepOrder, StepOutcome } from "./types";

/** `deadline`: a synchronous checkout's, which cuts its provider calls off (see server/checkout/place.ts). */
export const SIDE_EFFECTS: Record<
  SideEffectStep,
  (order: StepOrder, deadline?: AbortSignal) => Promise<StepOutcome>
> = {
  fraud: screenForFraud,
  email: sendReceipt,
  analytics: recordSale,
  fulfillment: fulfill,
  cancellationEmail: sendCancellation,
  saleReversal: reverseSale,
};
