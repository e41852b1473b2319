// The emails: the receipt, sent as soon as the order is placed (it is the "order received" email), and
// the cancellation that corrects it when the order is undone afterwards. The provider deduplicates by
// order and kind, so a job that runs twice sends one email.
import { UNDOS } from "../contract";
import { callDownstream, orderCall } from "../downstream/simulate";
import type { StepOrder, StepOutcome } from "./types";

const money = (cents: number) => `$${(cents / 100).toFixed(2)}`;

type Email = { to: string; subject: string; text: string; orderId: string };

export const receipt = (orderId: string) => orderCall("email", "send", orderId, "receipt");
export const cancellation = (orderId: string) => orderCall("email", "send", orderId, "cancellation");

function itemLines(order: StepOrder): string[] {
  return order.items.map(
    (item) => `  ${item.quantity} × ${item.name}  ${money(item.unitPriceCents * item.quantity)}`,
  );
}

export function receiptFor(order: StepOrder): Email {
  const lines = itemLines(order);
  return {
    orderId: order.id,
    to: order.customer.email,
    subject: `Your receipt for order ${order.id.slice(0, 8)}`,
    text: [
      `Hi ${order.customer.name},`,
      "",
      "Thank you for your order. Here is your receipt:",
      "",
      ...lines,
      "",
      `  Total  ${money(order.totalCents)}`,
      "",
      "We will email you again when it ships.",
    ].join("\n"),
  };
}

export async function sendReceipt(order: StepOrder, deadline?: AbortSignal): Promise<StepOutcome> {
  const email = await callDownstream({ ...receipt(order.id), deadline, perform: () => receiptFor(order) });
  return { detail: `Receipt sent to ${email.to}` };
}

/** Written for the shopper who already holds the receipt: what happened, that nothing is charged, and
 * that the receipt no longer stands. */
export function cancellationFor(order: StepOrder): Email {
  const reference = order.id.slice(0, 8);
  // Owed or done: the refund is recorded as owed before the gateway answers, and the gateway's retry
  // (see server/orders/compensate.ts) makes it happen.
  const refund: readonly (string | null)[] = [UNDOS.refund.owed, UNDOS.refund.done];
  const refunded = order.steps.some((step) => step.name === "payment" && refund.includes(step.detail));
  return {
    orderId: order.id,
    to: order.customer.email,
    subject: `Your order ${reference} was cancelled`,
    text: [
      `Hi ${order.customer.name},`,
      "",
      `We are sorry: we sent you a receipt for order ${reference}, but the order was cancelled after that.`,
      "",
      `Why: ${order.failureReason ?? "the order could not be completed"}.`.replace(/\.\.$/, "."),
      "",
      ...itemLines(order),
      "",
      refunded
        ? `  Refunded  ${money(order.totalCents)}`
        : `  Not charged  ${money(order.totalCents)} (the hold on your card was released)`,
      "",
      "Nothing will ship, and you do not need to do anything. Please disregard the earlier receipt.",
    ].join("\n"),
  };
}

export async function sendCancellation(order: StepOrder): Promise<StepOutcome> {
  const email = await callDownstream({ ...cancellation(order.id), perform: () => cancellationFor(order) });
  return { detail: `Cancellation sent to ${email.to}` };
}
