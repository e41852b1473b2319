// The critical path, always synchronous: reserve the stock, authorize the payment, confirm the order.
// Then the one branch this project is about: does the request wait for the side effects?
//   async          → the confirmation writes outbox rows; the shopper gets an answer now.
//   sync           → the request runs every side effect, one after another, then answers.
//   sync-parallel  → the request runs them all at once and answers when the longest chain is done.
// Three statements on the happy path of an async checkout: reserve-and-create, the gateway's own
// ledger, confirm-and-enqueue.
import { createHash, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { config } from "../config";
import {
  AppError,
  BROKE_OFF_AFTER_CONFIRM,
  type CheckoutMode,
  FIRST_SIDE_EFFECTS,
  LIVE_ORDER_STATUSES,
  MODES,
  type OrderView,
  type PlaceOrderInput,
  SERVICES,
  STEPS,
} from "../contract";
import { DownstreamError } from "../downstream/error";
import { getSettings } from "../downstream/settings";
import { callDownstream } from "../downstream/simulate";
import { faultPoint } from "../faults";
import { log, messageOf, unreachableStore } from "../log";
import { changeOrder } from "../orders/change";
import { compensate, leaveUndoOwed } from "../orders/compensate";
import { InlineStepFailure, runCompensationsInline, runSideEffectsInline } from "../orders/inline";
import { findOrderView } from "../orders/view";
import { replay } from "./replay";
import { reserve } from "./reserve";

export async function placeOrder(input: PlaceOrderInput, sessionId: string): Promise<OrderView> {
  const receivedAt = new Date();
  // From the order's createdAt (= receivedAt) on, the checkout has CHECKOUT_DEADLINE_MS to leave the
  // states the sweeper takes for abandoned: provider calls still waiting then are cut off, and the
  // order fails (see server/config.ts, which makes the sweeper's grace outlast this).
  const deadline = AbortSignal.timeout(config.CHECKOUT_DEADLINE_MS);
  const mode = input.mode ?? (await getSettings()).defaultMode;
  const requestHash = hashRequest(input, mode);
  const pending = await reserve({ input, sessionId, mode, requestHash, receivedAt }, deadline);
  if (!pending) return replay(input.idempotencyKey, requestHash, sessionId);
  try {
    const placed = await confirm(pending, mode, deadline);
    log.debug({ orderId: placed.id, mode, status: placed.status }, "checkout answered");
    return placed;
  } catch (error) {
    if (error instanceof AppError) throw error;
    // Anything unplanned after the stock was taken (Postgres gone, a bug): undo what this checkout
    // owns now, not when the sweeper comes by; the shopper is answered (by the API's edge: a 503 for a
    // database restart). If the undo fails as well, the sweeper (or, for the providers' part, the
    // reconciler) still will.
    await undoBrokenCheckout(pending.id, mode, error);
    throw error;
  }
}

/** Backoff of the undo while Postgres is away, and how long this process keeps trying before it leaves
 * the order to the sweeper (SWEEPER_GRACE_MS, minutes later). A restart takes seconds. */
const UNDO_RETRY_MIN_MS = 250;
const UNDO_RETRY_MAX_MS = 5_000;
const UNDO_RETRY_FOR_MS = 120_000;

/** Compensates what a checkout that broke off owns. Tried once before the answer; when Postgres is what
 * broke it (a restart cuts the connection), tried again in the background until Postgres is back.
 * A queued mode's checkout owns its order only until the confirmation commits: once it has (the answer
 * may be what was lost), the order stands, its side effects run, and a retry with the same key is
 * answered with it. An inline mode's checkout runs the side effects itself, and has stopped them. */
async function undoBrokenCheckout(orderId: string, mode: CheckoutMode, cause: unknown): Promise<void> {
  const orderLog = log.child({ orderId });
  orderLog.warn({ error: messageOf(cause) }, "checkout broke off; compensating");
  const owned = MODES[mode].waitsForSideEffects ? undefined : (["pending"] as const);
  const undo = async () => {
    const reason = "The checkout broke off. Nothing was charged.";
    if (await compensate(orderId, { status: "failed", reason }, {}, owned)) {
      // A synchronous order's receipt may have gone out: its correction is due as well.
      await runCompensationsInline(orderId);
    } else if (
      owned &&
      LIVE_ORDER_STATUSES.includes((await findOrderView({ id: orderId }))?.status ?? "pending")
    ) {
      orderLog.warn(BROKE_OFF_AFTER_CONFIRM);
    }
  };
  try {
    await undo();
    return;
  } catch (error) {
    if (unreachableStore(error) !== "postgres") {
      orderLog.warn({ error: messageOf(error) }, "compensation failed; left to the sweeper");
      return;
    }
  }
  void (async () => {
    const giveUpAt = Date.now() + UNDO_RETRY_FOR_MS;
    for (
      let delay = UNDO_RETRY_MIN_MS;
      Date.now() < giveUpAt;
      delay = Math.min(delay * 2, UNDO_RETRY_MAX_MS)
    ) {
      await sleep(delay);
      try {
        await undo();
        orderLog.info("checkout compensated once Postgres was back");
        return;
      } catch (error) {
        if (unreachableStore(error) !== "postgres") break;
      }
    }
    orderLog.warn("compensation failed; left to the sweeper");
  })();
}

async function confirm(pending: OrderView, mode: CheckoutMode, deadline: AbortSignal): Promise<OrderView> {
  const authorization = await authorize(pending, deadline);
  const confirmedAt = new Date();
  const { waitsForSideEffects } = MODES[mode];
  const placed = await changeOrder(pending.id, {
    // The sweeper may have given up on this checkout meanwhile (see server/repair/sweeper.ts): then it
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
  if (placed) await faultPoint("checkout:confirmed", { orderId: placed.id });
  if (!placed) throw tookTooLong(pending.id);
  if (!waitsForSideEffects) return placed;

  try {
    await runSideEffectsInline(pending.id, MODES[mode].parallel, deadline);
  } catch (error) {
    if (!(error instanceof InlineStepFailure)) throw error;
    // Postgres went away under the step: the checkout broke off (undone by placeOrder); the shopper is
    // told the database is restarting, not that a provider broke.
    if (unreachableStore(error.cause) === "postgres") throw error.cause;
    const culprit =
      error.cause instanceof DownstreamError
        ? `the ${SERVICES[error.cause.service].title.toLowerCase()}`
        : STEPS[error.step].label;
    // What happened to the money (voided, or captured and refunded) the order's payment step says.
    const reason = `${STEPS[error.step].label} failed: ${error.message}.`;
    await compensate(pending.id, { status: "failed", reason }).catch(leaveUndoOwed);
    // The receipt may have gone out before the step that broke: correct it before answering.
    await runCompensationsInline(pending.id);
    throw new AppError("DEPENDENCY_FAILED", `Checkout failed because ${culprit} broke: ${error.message}.`, {
      orderId: pending.id,
      step: error.step,
    });
  }
  await faultPoint("checkout:answering", { orderId: pending.id });
  const answered = await changeOrder(pending.id, { confirmedAt: new Date() });
  if (!answered) throw new AppError("NOT_FOUND", "Order not found");
  return answered;
}

/** The sweeper gave up on this checkout (see server/repair/sweeper.ts) and has compensated it. */
function tookTooLong(orderId: string): AppError {
  return new AppError(
    "DEPENDENCY_FAILED",
    "The checkout took too long and was cancelled. Nothing was charged.",
    {
      orderId,
    },
  );
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
async function authorize({ id: orderId, totalCents }: OrderView, deadline: AbortSignal): Promise<string> {
  try {
    const authorization = await callDownstream({
      service: "payment",
      operation: "authorize",
      deadline,
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
  // The sweeper gave up on this checkout while the gateway was answering, and voided it first.
  if (error instanceof DownstreamError && error.kind === "refused") return tookTooLong(orderId);
  const reason = error instanceof Error ? error.message : "unknown error";
  return new AppError(
    "DEPENDENCY_FAILED",
    `We could not reach the payment gateway (${reason}). Nothing was charged.`,
    { orderId },
  );
}
