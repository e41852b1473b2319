// Undoing a placed order's critical path: void the payment authorization, put the stock back, and
// skip the side effects that have not run. Guarded by the order's status, so however many times it
// is called (a retried job, two processes at once) the stock goes back exactly once.
import { type OrderStatus, SETTLED_STEP_STATUSES, type StepName, type StepStatus } from "../contract";
import { prisma } from "../db";
import { callDownstream } from "../downstream/simulate";
import { publishOrder } from "../realtime/publish";
import { applyChange, type OrderChange } from "./state";

const FINAL_STATUSES: OrderStatus[] = ["cancelled", "failed"];

/** Returns false when the order had already been compensated. */
export async function compensate(
  orderId: string,
  outcome: { status: "cancelled" | "failed"; reason: string },
): Promise<boolean> {
  const order = await prisma.order.findUniqueOrThrow({
    where: { id: orderId },
    select: {
      status: true,
      totalCents: true,
      items: { select: { productId: true, quantity: true } },
      steps: { select: { name: true, status: true } },
    },
  });
  if (FINAL_STATUSES.includes(order.status as OrderStatus)) return false;
  const statusOf = (name: StepName) => order.steps.find((step) => step.name === name)?.status as StepStatus;

  // "running": the gateway was asked and the answer never recorded (an interrupted checkout).
  const authorized = statusOf("payment") === "succeeded" || statusOf("payment") === "running";
  // A synchronous checkout running its steps side by side may have shipped (and captured) already.
  const shipped = statusOf("fulfillment") === "succeeded";
  // Outside any transaction: no row lock is held while the providers answer.
  if (shipped) {
    await callDownstream({
      service: "shipping",
      operation: "cancel",
      idempotencyKey: orderId,
      perform: () => ({ orderId }),
    });
  }
  if (authorized) {
    await callDownstream({
      service: "payment",
      operation: shipped ? "refund" : "void",
      idempotencyKey: orderId,
      perform: () => ({ orderId, amountCents: order.totalCents }),
    });
  }

  const now = new Date();
  const steps: OrderChange["steps"] = {};
  for (const step of order.steps) {
    if (!SETTLED_STEP_STATUSES.includes(step.status as StepStatus) && step.status !== "running") {
      steps[step.name as StepName] = { status: "skipped", finishedAt: now };
    }
  }
  if (statusOf("inventory") === "succeeded") {
    steps.inventory = { status: "compensated", detail: "Stock released" };
  }
  if (authorized) {
    steps.payment = { status: "compensated", detail: shipped ? "Payment refunded" : "Authorization voided" };
  }
  if (shipped) steps.fulfillment = { status: "compensated", detail: "Shipment cancelled" };

  const compensated = await prisma.$transaction(async (tx) => {
    const claimed = await tx.order.updateMany({
      where: { id: orderId, status: { notIn: FINAL_STATUSES } },
      data: { status: outcome.status },
    });
    if (claimed.count === 0) return false;
    if (statusOf("inventory") === "succeeded") {
      for (const item of order.items) {
        await tx.product.update({
          where: { id: item.productId },
          data: { stock: { increment: item.quantity } },
        });
      }
    }
    await applyChange(tx, orderId, { steps, failureReason: outcome.reason, settledAt: now });
    return true;
  });
  if (compensated) await publishOrder(orderId);
  return compensated;
}
