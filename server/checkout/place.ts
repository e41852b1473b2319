// The critical path, always synchronous: reserve the stock, authorize the payment, confirm the order.
// Then the one branch this project is about: does the request wait for the side effects?
//   async          → the confirmation writes outbox rows; the shopper gets an answer now.
//   sync           → the request runs every side effect, one after another, then answers.
//   sync-parallel  → the request runs them all at once and answers when the longest chain is done.
// Three statements on the happy path of an async checkout: reserve-and-create, the gateway's own
// ledger, confirm-and-enqueue.
import { createHash, randomUUID } from "node:crypto";
import {
  AppError,
  type CheckoutMode,
  FIRST_SIDE_EFFECTS,
  MODES,
  type OrderView,
  type PlaceOrderInput,
  SERVICES,
  STEPS,
} from "../contract";
import { getSettings } from "../downstream/settings";
import { callDownstream, DownstreamError } from "../downstream/simulate";
import { changeOrder } from "../orders/change";
import { compensate } from "../orders/compensate";
import { InlineStepFailure, runCompensationsInline, runSideEffectsInline } from "./inline";
import { replay } from "./replay";
import { reserve } from "./reserve";

export async function placeOrder(input: PlaceOrderInput, sessionId: string): Promise<OrderView> {
  const receivedAt = new Date();
  const mode = input.mode ?? (await getSettings()).defaultMode;
  const requestHash = hashRequest(input, mode);
  const pending = await reserve({ input, sessionId, mode, requestHash, receivedAt });
  if (!pending) return replay(input.idempotencyKey, requestHash, sessionId);
  try {
    return await confirm(pending, mode);
  } catch (error) {
    if (error instanceof AppError) throw error;
    // Anything unplanned after the stock was taken (Postgres gone, a bug): undo it now, not when the
    // sweeper comes by. If the undo fails as well, the sweeper still will.
    await compensate(pending.id, {
      status: "failed",
      reason: "The checkout broke off. Nothing was charged.",
    }).catch((undo: unknown) =>
      console.warn(`checkout ${pending.id}: compensation deferred to the sweeper:`, undo),
    );
    throw error;
  }
}

async function confirm(pending: OrderView, mode: CheckoutMode): Promise<OrderView> {
  const authorization = await authorize(pending);
  const confirmedAt = new Date();
  const { waitsForSideEffects } = MODES[mode];
  const placed = await changeOrder(pending.id, {
    // The sweeper may have given up on this checkout meanwhile (see server/orders/sweeper.ts): then it
    // has compensated the order, and the shopper is told so.
    when: { status: ["pending"] },
    status: "placed",
    steps: {
      payment: { status: "succeeded", finishedAt: confirmedAt, detail: `Authorized ${authorization}` },
      order: { status: "succeeded", attempts: 1, startedAt: confirmedAt, finishedAt: confirmedAt },
    },
    outbox: waitsForSideEffects ? [] : FIRST_SIDE_EFFECTS,
    confirmedAt: waitsForSideEffects ? undefined : confirmedAt,
  });
  if (!placed) {
    throw new AppError(
      "DEPENDENCY_FAILED",
      "The checkout took too long and was cancelled. Nothing was charged.",
      {
        orderId: pending.id,
      },
    );
  }
  if (!waitsForSideEffects) return placed;

  try {
    await runSideEffectsInline(pending.id, MODES[mode].parallel);
  } catch (error) {
    if (!(error instanceof InlineStepFailure)) throw error;
    const culprit =
      error.cause instanceof DownstreamError
        ? `the ${SERVICES[error.cause.service].title.toLowerCase()}`
        : STEPS[error.step].label;
    const reason = `${STEPS[error.step].label} failed: ${error.message}. Nothing was charged.`;
    await compensate(pending.id, { status: "failed", reason });
    // The receipt may have gone out before the step that broke: correct it before answering.
    await runCompensationsInline(pending.id);
    throw new AppError("DEPENDENCY_FAILED", `Checkout failed because ${culprit} broke: ${error.message}.`, {
      orderId: pending.id,
      step: error.step,
    });
  }
  const answered = await changeOrder(pending.id, { confirmedAt: new Date() });
  if (!answered) throw new AppError("NOT_FOUND", "Order not found");
  return answered;
}

function hashRequest(input: PlaceOrderInput, mode: CheckoutMode): string {
  const canonical = {
    items: [...input.items].sort((a, b) => a.productId.localeCompare(b.productId)),
    customer: { name: input.customer.name, email: input.customer.email.toLowerCase() },
    mode,
  };
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex");
}

/** Asks the gateway to hold the money; returns the authorization id. No transaction is open while
 * the gateway answers. A decline or an outage gives the stock back and fails the order. */
async function authorize({ id: orderId, totalCents }: OrderView): Promise<string> {
  try {
    const authorization = await callDownstream({
      service: "payment",
      operation: "authorize",
      idempotencyKey: orderId,
      perform: () => ({ authorizationId: `auth_${randomUUID().slice(0, 12)}`, amountCents: totalCents }),
    });
    return authorization.authorizationId;
  } catch (error) {
    const failure = paymentError(error, orderId);
    await compensate(
      orderId,
      { status: "failed", reason: failure.message },
      { payment: { status: "failed", finishedAt: new Date(), error: failure.message } },
    );
    throw failure;
  }
}

function paymentError(error: unknown, orderId: string): AppError {
  if (error instanceof DownstreamError && error.kind === "error") {
    return new AppError("PAYMENT_DECLINED", "Your payment was declined. Nothing was charged.", { orderId });
  }
  const reason = error instanceof Error ? error.message : "unknown error";
  return new AppError(
    "DEPENDENCY_FAILED",
    `We could not reach the payment gateway (${reason}). Nothing was charged.`,
    { orderId },
  );
}
