// The receipt email. The provider deduplicates by order, so a job that runs twice sends one email.
import { callDownstream } from "../downstream/simulate";
import type { StepOrder, StepOutcome } from "./types";

const money = (cents: number) => `$${(cents / 100).toFixed(2)}`;

export function receiptFor(order: StepOrder): { to: string; subject: string; text: string; orderId: string } {
  const lines = order.items.map(
    (item) => `  ${item.quantity} × ${item.name}  ${money(item.unitPriceCents * item.quantity)}`,
  );
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

export async function sendReceipt(order: StepOrder): Promise<StepOutcome> {
  const email = await callDownstream({
    service: "email",
    operation: "send",
    idempotencyKey: `${order.id}:receipt`,
    perform: () => receiptFor(order),
  });
  return { detail: `Receipt sent to ${email.to}` };
}
