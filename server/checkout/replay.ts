// A repeated checkout request (same idempotency key): the same body gets the first request's answer,
// once that request has answered; a different body is refused. While the first request is still at
// work the repeat waits a little, then says so: it never answers with an order that is not placed.
import { setTimeout as sleep } from "node:timers/promises";
import { config } from "../config";
import { AppError, type OrderStatus, type OrderView } from "../contract";
import { findOrder, type OrderRecord, toOrderView } from "../orders/view";

const REPLAY_POLL_MS = 50;

export async function replay(
  idempotencyKey: string,
  requestHash: string,
  sessionId: string,
): Promise<OrderView> {
  const deadline = Date.now() + config.CHECKOUT_WAIT_MS;
  for (;;) {
    const order = await findOrder({ idempotencyKey });
    if (!order) throw new AppError("NOT_FOUND", "Order not found");
    if (order.sessionId !== sessionId || order.requestHash !== requestHash) {
      throw new AppError(
        "IDEMPOTENCY_CONFLICT",
        "This idempotency key was already used for a different order. Use a new key for a new order.",
      );
    }
    if (answered(order)) return answerOf(order);
    if (Date.now() >= deadline) {
      throw new AppError(
        "STILL_PROCESSING",
        "This checkout is still being processed. Its order page will show the result; try again in a moment.",
        { orderId: order.id },
      );
    }
    await sleep(REPLAY_POLL_MS);
  }
}

/** Statuses a checkout still at work holds its order in (a synchronous one stays placed while it runs
 * the side effects). */
const CHECKING_OUT: readonly OrderStatus[] = ["pending", "placed"];

/** The first request has answered the shopper (confirmed), or the order has an outcome whatever
 * became of that answer: completed, cancelled or failed. A synchronous checkout whose last write was
 * lost leaves a completed order never marked answered; it is still the answer. */
function answered(order: OrderRecord): boolean {
  return order.confirmedAt !== null || !CHECKING_OUT.includes(order.status as OrderStatus);
}

function answerOf(order: OrderRecord): OrderView {
  const view = toOrderView(order);
  if (view.status !== "failed") return view;
  const paymentFailed = view.steps.some((step) => step.name === "payment" && step.status === "failed");
  throw new AppError(
    paymentFailed ? "PAYMENT_DECLINED" : "DEPENDENCY_FAILED",
    view.failureReason ?? "Checkout failed",
    { orderId: view.id },
  );
}
