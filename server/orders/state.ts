// Every change to an order goes through here: the step rows, the order row and its version, and the
// outbox rows the change causes, in one transaction; then the new view is pushed to watchers.
import { randomUUID } from "node:crypto";
import type { OrderStatus, OrderView, SideEffectStep, StepName, StepStatus } from "../contract";
import { prisma, type Tx } from "../db";
import { publishOrder } from "../realtime/publish";

export interface StepChange {
  status: StepStatus;
  attempts?: number;
  startedAt?: Date;
  finishedAt?: Date | null;
  error?: string | null;
  detail?: string | null;
}

export interface OrderChange {
  steps?: Partial<Record<StepName, StepChange>>;
  status?: OrderStatus;
  /** Apply the change only if the order is still in this status; otherwise nothing is written and
   * StaleOrderError is thrown (another process moved the order on meanwhile). */
  expectStatus?: OrderStatus;
  failureReason?: string | null;
  confirmedAt?: Date;
  settledAt?: Date;
  /** Side effects to hand to the queues, through the outbox, when this change commits. */
  outbox?: readonly SideEffectStep[];
  /** Re-derive a placed order's status from its steps (see settle). */
  settle?: boolean;
}

export class StaleOrderError extends Error {}

/** The Postgres channel the outbox relay listens on; NOTIFY is delivered at commit. */
export const OUTBOX_CHANNEL = "storefront_outbox";

/** Updates the order row first: its row lock orders concurrent changes to the same order. */
export async function applyChange(tx: Tx, orderId: string, change: OrderChange): Promise<void> {
  const updated = await tx.order.updateMany({
    where: { id: orderId, status: change.expectStatus },
    data: {
      version: { increment: 1 },
      status: change.status,
      failureReason: change.failureReason,
      confirmedAt: change.confirmedAt,
      settledAt: change.settledAt,
    },
  });
  if (updated.count === 0) {
    const current = await tx.order.findUnique({ where: { id: orderId }, select: { status: true } });
    throw new StaleOrderError(`order ${orderId} is ${current?.status ?? "gone"}, not ${change.expectStatus}`);
  }
  for (const [name, step] of Object.entries(change.steps ?? {})) {
    await tx.orderStep.update({ where: { orderId_name: { orderId, name } }, data: step });
  }
  if (change.outbox?.length) {
    await tx.outboxMessage.createMany({
      data: change.outbox.map((step) => ({ id: randomUUID(), orderId, step })),
      skipDuplicates: true,
    });
    await tx.$executeRaw`SELECT pg_notify(${OUTBOX_CHANNEL}, ${orderId})`;
  }
  if (change.settle) await settle(tx, orderId);
}

const FINISHED: readonly StepStatus[] = ["succeeded", "skipped"];

/** Derives a placed order's status from its steps, under the order's row lock: completed once every
 * step has finished (skipped only by a developer's discard); needs attention while a queued side
 * effect sits failed in the dead-letter set; placed again once it no longer does. A cancelled or
 * failed order is final and never touched here. */
async function settle(tx: Tx, orderId: string): Promise<void> {
  const order = await tx.order.findUniqueOrThrow({
    where: { id: orderId },
    select: { status: true, mode: true, steps: { select: { status: true } } },
  });
  if (order.status !== "placed" && order.status !== "needs_attention") return;
  const statuses = order.steps.map((step) => step.status as StepStatus);
  const next: OrderStatus = statuses.every((status) => FINISHED.includes(status))
    ? "completed"
    : order.mode === "async" && statuses.includes("failed")
      ? "needs_attention"
      : "placed";
  if (next === order.status) return;
  await tx.order.update({
    where: { id: orderId },
    data: { status: next, settledAt: next === "completed" ? new Date() : undefined },
  });
}

/** Applies a change in its own transaction, pushes the result to watchers and returns it. */
export async function commitChange(orderId: string, change: OrderChange): Promise<OrderView> {
  await prisma.$transaction((tx) => applyChange(tx, orderId, change));
  return publishOrder(orderId);
}
