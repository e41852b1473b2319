// Reading an order as clients see it. The explicit select is the whole list of what leaves the server;
// the statements in change.ts return the same columns, so a write hands back the view it produced.
import { z } from "zod";
import {
  type CheckoutMode,
  type OrderStatus,
  type OrderView,
  orderConditionsSchema,
  PLANNED_STEPS,
  STEP_NAMES,
  type StepName,
  stepAttemptView,
  stepStatusSchema,
} from "../contract";
import { Prisma, prisma } from "../db";

/** One step as the order row keeps it (Order.steps is an object of these, keyed by step name). */
// Steps stored before the attempt history existed read with an empty one (no migration needed).
export const storedStepSchema = z.object({
  status: stepStatusSchema,
  attempts: z.number().int(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  error: z.string().nullable(),
  detail: z.string().nullable(),
  attemptHistory: z.array(stepAttemptView).default([]),
  deadLetteredAt: z.string().nullable().default(null),
  retriedByOperatorAt: z.string().nullable().default(null),
  discardedAt: z.string().nullable().default(null),
  compensatedAt: z.string().nullable().default(null),
});
export type StoredStep = z.infer<typeof storedStepSchema>;
/** A compensating step is there only once the order needed it (see server/contract/steps.ts). */
const storedStepsSchema = z.partialRecord(z.enum(STEP_NAMES), storedStepSchema);

/** The steps a new order starts with: every planned step pending, then `first` applied on top. */
export function initialSteps(
  first: Partial<Record<StepName, Partial<StoredStep>>>,
): Partial<Record<StepName, StoredStep>> {
  return Object.fromEntries(PLANNED_STEPS.map((name) => [name, { ...PENDING_STEP, ...first[name] }]));
}

/** A step that has not started. */
export const PENDING_STEP: StoredStep = {
  status: "pending",
  attempts: 0,
  startedAt: null,
  finishedAt: null,
  error: null,
  detail: null,
  attemptHistory: [],
  deadLetteredAt: null,
  retriedByOperatorAt: null,
  discardedAt: null,
  compensatedAt: null,
};

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
  conditions: true,
  version: true,
  createdAt: true,
  confirmedAt: true,
  settledAt: true,
  steps: true,
  items: {
    select: { productId: true, name: true, unitPriceCents: true, quantity: true },
    orderBy: { id: "asc" },
  },
} satisfies Prisma.OrderSelect;

export type OrderRecord = Prisma.OrderGetPayload<{ select: typeof orderViewSelect }>;

const ORDER_COLUMNS = `o."id", o."sessionId", o."idempotencyKey", o."requestHash", o."status", o."mode",
  o."totalCents", o."customerName", o."customerEmail", o."failureReason", o."conditions", o."version", o."createdAt",
  o."confirmedAt", o."settledAt", o."steps"`;
const itemsJson = (alias: string) =>
  `coalesce(json_agg(json_build_object('productId', ${alias}."productId", 'name', ${alias}."name",
    'unitPriceCents', ${alias}."unitPriceCents", 'quantity', ${alias}."quantity") ORDER BY ${alias}."id"), '[]')`;

/** The columns of orderViewSelect, for a hand-written statement whose last step names the order row
 * `o`: the order's own columns, and its items as JSON (they never change once the order exists). */
export const orderRecordColumns = Prisma.raw(
  `${ORDER_COLUMNS}, (SELECT ${itemsJson("i")} FROM "OrderItem" i WHERE i."orderId" = o."id") AS "items"`,
);

/** The same, for the statement that creates the order: its items come from the CTE that inserted
 * them (a statement does not see its own inserts). */
export function newOrderRecordColumns(itemsCte: string): Prisma.Sql {
  return Prisma.raw(`${ORDER_COLUMNS}, (SELECT ${itemsJson("a")} FROM ${itemsCte} a) AS "items"`);
}

const iso = (date: Date | null) => date?.toISOString() ?? null;

export function toOrderView(order: OrderRecord): OrderView {
  const steps = storedStepsSchema.parse(order.steps);
  return {
    id: order.id,
    // Written only from the contract's values (see server/orders/change.ts).
    status: order.status as OrderStatus,
    mode: order.mode as CheckoutMode,
    totalCents: order.totalCents,
    customer: { name: order.customerName, email: order.customerEmail },
    items: order.items,
    steps: STEP_NAMES.flatMap((name) => {
      const step = steps[name];
      return step ? [{ name, ...step }] : [];
    }),
    failureReason: order.failureReason,
    conditions: orderConditionsSchema.safeParse(order.conditions).data ?? null,
    version: order.version,
    createdAt: order.createdAt.toISOString(),
    confirmedAt: iso(order.confirmedAt),
    settledAt: iso(order.settledAt),
  };
}

/** The order as clients see it, or null. */
export async function findOrderView(where: Prisma.OrderWhereUniqueInput): Promise<OrderView | null> {
  const record = await findOrder(where);
  return record ? toOrderView(record) : null;
}

export async function findOrder(where: Prisma.OrderWhereUniqueInput): Promise<OrderRecord | null> {
  return prisma.order.findUnique({ where, select: orderViewSelect, relationLoadStrategy: "join" });
}
