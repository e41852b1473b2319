// Undoing a placed order's critical path: put the stock back, void (or refund) the payment, cancel a
// booked shipment, and skip the side effects that have not run.
// First the order is claimed, in one transaction, from the status it was read in: whatever moved it on
// meanwhile (the checkout confirming it, another compensation) wins, and the stock goes back exactly
// once however many times this runs. Then the providers are asked to undo, with idempotency keys, so a
// repeated compensation (a retried job) drives an undo that failed to completion and does nothing twice.
import { type OrderStatus, SETTLED_STEP_STATUSES, type StepName, type StepStatus } from "../contract";
import { prisma } from "../db";
import { callDownstream, providerDid } from "../downstream/simulate";
import { publishOrder } from "../realtime/publish";
import { applyChange, type OrderChange } from "./state";

const FINAL_STATUSES: OrderStatus[] = ["cancelled", "failed"];

/** Returns false when the order had already been compensated (or had moved on). */
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
  // Fulfillment may have captured the payment, and booked the shipment, before the checkout broke
  // (side by side in sync-parallel, or the shipment failing after the capture): ask the providers.
  const [captured, shipped] = await Promise.all([
    providerDid("payment", "capture", orderId),
    providerDid("shipping", "ship", orderId),
  ]);
  const payment = order.steps.find((step) => step.name === "payment")?.status;
  const claimed = FINAL_STATUSES.includes(order.status as OrderStatus)
    ? false
    : await claim(orderId, order, outcome, { captured, shipped });
  if (claimed) await publishOrder(orderId);
  // The claim marks an authorized payment compensated; a repeat finds it marked already.
  const paymentToUndo = claimed ? isAuthorized(payment) : payment === "compensated";
  if (paymentToUndo) await undoAtProviders(orderId, order.totalCents, { captured, shipped });
  return claimed;
}

/** "running": the gateway was asked and the answer never recorded (an interrupted checkout). */
function isAuthorized(paymentStatus: string | undefined): boolean {
  return paymentStatus === "succeeded" || paymentStatus === "running";
}

type ReadOrder = {
  status: string;
  totalCents: number;
  items: { productId: string; quantity: number }[];
  steps: { name: string; status: string }[];
};

async function claim(
  orderId: string,
  order: ReadOrder,
  outcome: { status: "cancelled" | "failed"; reason: string },
  { captured, shipped }: { captured: boolean; shipped: boolean },
): Promise<boolean> {
  const statusOf = (name: StepName) => order.steps.find((step) => step.name === name)?.status as StepStatus;
  const authorized = isAuthorized(statusOf("payment"));
  const reserved = statusOf("inventory") === "succeeded";

  const now = new Date();
  const steps: OrderChange["steps"] = {};
  for (const step of order.steps) {
    if (!SETTLED_STEP_STATUSES.includes(step.status as StepStatus) && step.status !== "running") {
      steps[step.name as StepName] = { status: "skipped", finishedAt: now };
    }
  }
  if (reserved) steps.inventory = { status: "compensated", detail: "Stock released" };
  if (authorized) {
    steps.payment = { status: "compensated", detail: captured ? "Payment refunded" : "Authorization voided" };
  }
  if (shipped) steps.fulfillment = { status: "compensated", detail: "Shipment cancelled" };

  return prisma.$transaction(async (tx) => {
    const claimed = await tx.order.updateMany({
      where: { id: orderId, status: order.status },
      data: { status: outcome.status },
    });
    if (claimed.count === 0) return false;
    if (reserved) {
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
}

/** Outside any transaction: no row lock is held while the providers answer. */
async function undoAtProviders(
  orderId: string,
  totalCents: number,
  { captured, shipped }: { captured: boolean; shipped: boolean },
) {
  if (shipped) {
    await callDownstream({
      service: "shipping",
      operation: "cancel",
      idempotencyKey: orderId,
      perform: () => ({ orderId }),
    });
  }
  await callDownstream({
    service: "payment",
    operation: captured ? "refund" : "void",
    idempotencyKey: orderId,
    perform: () => ({ orderId, amountCents: totalCents }),
  });
}
