// Words for statuses, shared by the checkout progress list and the order page.
import type { OrderStatus, StepStatus } from "@/server/contract";

export const STEP_STATUS_LABELS: Record<StepStatus, string> = {
  pending: "Waiting",
  running: "Running",
  retrying: "Retrying",
  succeeded: "Done",
  rejected: "Rejected",
  failed: "Failed",
  skipped: "Skipped",
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

/** One line under the status badge: what this status means for the shopper. */
export const ORDER_STATUS_NOTES: Record<OrderStatus, string> = {
  pending: "The critical path is still running: stock, payment, confirmation.",
  placed:
    "Your order is confirmed. The remaining work finishes in the background and appears below as it happens.",
  completed: "Everything is done: screened, receipt sent, payment captured and shipment booked.",
  cancelled:
    "Fraud screening rejected the order after it was placed, so the payment hold was voided and the stock released.",
  failed: "The checkout could not finish. Nothing was charged and the stock went back on the shelf.",
  needs_attention:
    "A background step keeps failing and is parked for a human to look at. Your order stands; nothing is lost.",
};
