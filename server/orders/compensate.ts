// Undoing a placed order's critical path: put the stock back, void (or refund) the payment, cancel a
// booked shipment, and skip the side effects that have not started.
// First the order is claimed, in one statement, from the status it was read in: whatever moved it on
// meanwhile (the checkout confirming it, another compensation) wins, and the stock goes back exactly
// once however many times this runs. Then the providers are asked to undo, with idempotency keys, so a
// repeated compensation (a retried job) drives an undo that failed to completion and does nothing twice.
import { STEP_NAMES, type StepName, type StepStatus, UNDONE_ORDER_STATUSES } from "../contract";
import { prisma } from "../db";
import { callDownstream } from "../downstream/simulate";
import { log } from "../log";
import { changeOrder, type StepChange } from "./change";
import { findOrderView } from "./view";

/** Steps that have not started: they will not, now. A running one finishes and records itself. */
const NOT_STARTED: readonly StepStatus[] = ["pending", "retrying"];

export interface Outcome {
  status: "cancelled" | "failed";
  reason: string;
}

/** Returns false when the order had already been compensated (or had moved on). `also` are step
 * changes recorded in the same statement (the step whose failure or verdict caused this). */
export async function compensate(
  orderId: string,
  outcome: Outcome,
  also: Partial<Record<StepName, StepChange>> = {},
): Promise<boolean> {
  const order = await findOrderView({ id: orderId });
  if (!order) throw new Error(`order ${orderId} does not exist`);
  const statusOf = (name: StepName) =>
    also[name]?.status ?? order.steps.find((step) => step.name === name)?.status;
  // Fulfillment may have captured the payment, and booked the shipment, before the checkout broke
  // (side by side in sync-parallel, or the shipment failing after the capture): ask the providers.
  const { captured, shipped } = await providerRecords(orderId);
  const authorized = isAuthorized(statusOf("payment"));

  let claimed = false;
  if (!UNDONE_ORDER_STATUSES.includes(order.status)) {
    const now = new Date();
    const steps: Partial<Record<StepName, StepChange>> = Object.fromEntries(
      STEP_NAMES.map((name) => [name, { status: "skipped", finishedAt: now, onlyFrom: NOT_STARTED }]),
    );
    const reserved = statusOf("inventory") === "succeeded";
    if (reserved) steps.inventory = { status: "compensated", detail: "Stock released" };
    if (authorized) {
      steps.payment = {
        status: "compensated",
        detail: captured ? "Payment refunded" : "Authorization voided",
      };
    }
    if (shipped) steps.fulfillment = { status: "compensated", detail: "Shipment cancelled" };
    const changed = await changeOrder(orderId, {
      when: { status: [order.status] },
      status: outcome.status,
      failureReason: outcome.reason,
      settledAt: now,
      steps: { ...steps, ...also },
      restock: reserved,
    });
    claimed = changed !== null;
    if (claimed) {
      log.warn(
        {
          orderId,
          status: outcome.status,
          reason: outcome.reason,
          restocked: reserved,
          paymentUndone: authorized,
        },
        `order ${outcome.status}: compensated`,
      );
    }
  }
  // The claim marks an authorized payment compensated; a repeat finds it marked already.
  const paymentToUndo = claimed ? authorized : statusOf("payment") === "compensated";
  if (paymentToUndo) await undoAtProviders(orderId, order.totalCents, { captured, shipped });
  return claimed;
}

/** "running": the gateway was asked and the answer never recorded (an interrupted checkout). */
function isAuthorized(paymentStatus: StepStatus | undefined): boolean {
  return paymentStatus === "succeeded" || paymentStatus === "running";
}

/** Asks the providers, in one look-up, whether they captured or shipped for this order (a gateway's
 * "look up by idempotency key"). */
async function providerRecords(orderId: string): Promise<{ captured: boolean; shipped: boolean }> {
  const calls = await prisma.downstreamCall.findMany({
    where: {
      idempotencyKey: orderId,
      OR: [
        { service: "payment", operation: "capture" },
        { service: "shipping", operation: "ship" },
      ],
    },
    select: { service: true },
  });
  return {
    captured: calls.some((call) => call.service === "payment"),
    shipped: calls.some((call) => call.service === "shipping"),
  };
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
