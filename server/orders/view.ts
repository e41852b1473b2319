// Reading an order as clients see it. The explicit select is the whole list of what leaves the server.
import {
  type CheckoutMode,
  type OrderStatus,
  type OrderView,
  STEP_NAMES,
  type StepName,
  type StepStatus,
} from "../contract";
import { prisma, type Tx } from "../db";
import type { Prisma } from "../generated/prisma/client";

export const orderViewSelect = {
  id: true,
  sessionId: true,
  idempotencyKey: true,
  requestHash: true,
  status: true,
  mode: true,
  totalCents: true,
  customerName: true,
  customerEmail: true,
  failureReason: true,
  version: true,
  createdAt: true,
  confirmedAt: true,
  settledAt: true,
  items: {
    select: { productId: true, name: true, unitPriceCents: true, quantity: true },
    orderBy: { id: "asc" },
  },
  steps: {
    select: {
      name: true,
      status: true,
      attempts: true,
      startedAt: true,
      finishedAt: true,
      error: true,
      detail: true,
    },
  },
} satisfies Prisma.OrderSelect;

export type OrderRecord = Prisma.OrderGetPayload<{ select: typeof orderViewSelect }>;

const iso = (date: Date | null) => date?.toISOString() ?? null;
const stepRank = (name: string) => STEP_NAMES.indexOf(name as StepName);

export function toOrderView(order: OrderRecord): OrderView {
  return {
    id: order.id,
    // Written only from the contract's values (see server/orders/state.ts).
    status: order.status as OrderStatus,
    mode: order.mode as CheckoutMode,
    totalCents: order.totalCents,
    customer: { name: order.customerName, email: order.customerEmail },
    items: order.items,
    steps: [...order.steps]
      .sort((a, b) => stepRank(a.name) - stepRank(b.name))
      .map((step) => ({
        name: step.name as StepName,
        status: step.status as StepStatus,
        attempts: step.attempts,
        startedAt: iso(step.startedAt),
        finishedAt: iso(step.finishedAt),
        error: step.error,
        detail: step.detail,
      })),
    failureReason: order.failureReason,
    version: order.version,
    createdAt: order.createdAt.toISOString(),
    confirmedAt: iso(order.confirmedAt),
    settledAt: iso(order.settledAt),
  };
}

export async function findOrder(where: Prisma.OrderWhereUniqueInput, db: Tx | typeof prisma = prisma) {
  return db.order.findUnique({ where, select: orderViewSelect, relationLoadStrategy: "join" });
}
