// Each side effect, written once and used by every mode: the worker runs it from its queue, a
// synchronous checkout runs it inline. The table is keyed by the contract's step names.
import type { SideEffectStep } from "../contract";
import type { ProviderCall } from "../downstream/simulate";
import { recordSale, reverseSale, sale, saleReversed } from "./analytics";
import { cancellation, receipt, sendCancellation, sendReceipt } from "./email";
import { screenForFraud, screening } from "./fraud";
import { fulfill, shipment } from "./fulfillment";
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

/** The provider call whose record means a side effect happened: what decides, when nobody is left to
 * say, whether a step cut off mid-way did its work (see server/repair/sweeper.ts). */
export const EFFECT_CALLS: Record<SideEffectStep, (orderId: string) => ProviderCall> = {
  fraud: screening,
  email: receipt,
  analytics: sale,
  fulfillment: shipment,
  cancellationEmail: cancellation,
  saleReversal: saleReversed,
};
