// Words for statuses, shared by the checkout progress list and the order page.
import {
  MODES,
  type OrderStatus,
  type OrderStepView,
  type OrderView,
  type StepStatus,
  UNDO_OWED,
  UNDONE_ORDER_STATUSES,
  UNDOS,
} from "@/server/contract";

export const STEP_STATUS_LABELS: Record<StepStatus, string> = {
  pending: "Waiting",
  running: "Running",
  retrying: "Retrying",
  succeeded: "Done",
  rejected: "Rejected",
  failed: "Failed",
  skipped: "Skipped",
  compensating: "Undoing",
  compensated: "Undone",
};

export const ORDER_STATUS_LABELS: Record<OrderStatus, string> = {
  pending: "Confirming…",
  placed: "Order placed",
  completed: "Completed",
  cancelled: "Cancelled",
  failed: "Failed",
  needs_attention: "Needs attention",
};

/** A status as a word in a count ("2 cancelled, 1 in progress"). */
export const ORDER_STATUS_COUNTED: Record<OrderStatus, string> = {
  pending: "confirming",
  placed: "in progress",
  completed: "completed",
  cancelled: "cancelled",
  failed: "failed",
  needs_attention: "needing attention",
};

/** The checkout said no: it failed, or (in a mode that waits for the side effects) fraud screening
 * rejected the order before the request answered. Either way the shopper never had a confirmed order. */
export function refusedAtCheckout(order: Pick<OrderView, "status" | "mode">): boolean {
  return order.status === "failed" || (order.status === "cancelled" && MODES[order.mode].waitsForSideEffects);
}

/** The order page's headline. */
export function orderHeadline(order: Pick<OrderView, "status" | "mode" | "customer">): string {
  if (refusedAtCheckout(order)) return "This order did not go through";
  if (order.status === "cancelled") return "This order was cancelled";
  return `Thank you, ${order.customer.name}`;
}

/** The confirmation of an order that was undone afterwards: it happened, and it no longer stands. */
export function isRolledBack(order: Pick<OrderView, "status">, step: Pick<OrderStepView, "name" | "status">) {
  return step.name === "order" && step.status === "succeeded" && UNDONE_ORDER_STATUSES.includes(order.status);
}

/** A step's chip: its status, except a rolled-back confirmation, which is not a plain "Done". */
export function stepStatusLabel(
  order: Pick<OrderView, "status">,
  step: Pick<OrderStepView, "name" | "status">,
) {
  return isRolledBack(order, step) ? "Rolled back" : STEP_STATUS_LABELS[step.status];
}

/** What happened to the shopper's money in an undone order, read from its payment step: a hold voided
 * (nothing charged), a capture refunded (charged, then refunded), or an undo still owed. */
export function moneyStory(order: Pick<OrderView, "steps" | "totalCents">): string {
  const payment = order.steps.find((step) => step.name === "payment");
  if (!payment || payment.status === "failed" || payment.status === "pending") {
    return "Nothing was charged.";
  }
  if (payment.status === UNDO_OWED) {
    return payment.detail === UNDOS.refund.owed
      ? "The payment was captured; its refund is under way."
      : "Nothing was charged; the hold on the card is being released.";
  }
  if (payment.status === "compensated" && payment.detail === UNDOS.refund.done) {
    return "The payment was charged, then refunded in full.";
  }
  return "Nothing was charged: the hold on the card was released.";
}

const STATUS_NOTES: Record<OrderStatus, string> = {
  pending: "The critical path is still running: stock, payment, confirmation.",
  placed:
    "Your order is confirmed. The remaining work finishes in the background and appears below as it happens.",
  completed: "Everything is done: screened, receipt sent, payment captured and shipment booked.",
  cancelled:
    "Fraud screening rejected the order after you had your confirmation, so it was undone and the stock released.",
  failed: "The checkout could not finish, so it was undone and the stock went back on the shelf.",
  needs_attention:
    "A background step keeps failing and is parked for a human to look at. Your order stands; nothing is lost.",
};

/** One line under the status badge: what this status means for the shopper, in this order's mode, and
 * for an undone order what happened to the money. */
export function statusNote(order: Pick<OrderView, "status" | "mode" | "steps" | "totalCents">): string {
  const money = UNDONE_ORDER_STATUSES.includes(order.status) ? ` ${moneyStory(order)}` : "";
  if (!MODES[order.mode].waitsForSideEffects) return `${STATUS_NOTES[order.status]}${money}`;
  if (order.status === "placed") {
    return "The checkout is still running the side effects; the answer comes when the last one has finished.";
  }
  if (order.status === "cancelled") {
    return `Fraud screening rejected the order before the checkout answered, so it was never confirmed: it was undone and the stock released.${money}`;
  }
  return `${STATUS_NOTES[order.status]}${money}`;
}
