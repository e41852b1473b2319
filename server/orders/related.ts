// What an order page links to besides the order itself: the order of the other mode that ran under the
// same conditions (so the "other mode" line can point at a real one), and the order's side-effect jobs
// in the queues (job id = outbox row id; bull-board shows them under /dev/jobs).
import { CHECKOUT_MODES, type CheckoutMode, type OrderStatus, type SideEffectStep } from "../contract";
import { Prisma, sql } from "../db";

export interface SameConditionsOrder {
  id: string;
  mode: CheckoutMode;
  status: OrderStatus;
  createdAt: string;
}

export interface OrderJob {
  step: SideEffectStep;
  jobId: string;
}

export interface RelatedToOrder {
  /** Per other mode, the latest order of the same session under the same knobs whose fraud screening
   * reached the same verdict (a fraudster's order is compared with a fraudster's). */
  sameConditions: SameConditionsOrder[];
  jobs: OrderJob[];
}

/** Null when the order is not this session's (as order.byId, "not found"). */
export async function relatedToOrder(orderId: string, sessionId: string): Promise<RelatedToOrder | null> {
  const [order] = await sql<{ id: string }>(
    Prisma.sql`SELECT o."id" FROM "Order" o WHERE o."id" = ${orderId} AND o."sessionId" = ${sessionId}`,
  );
  if (!order) return null;
  const [twins, jobs] = await Promise.all([
    sql<{ id: string; mode: string; status: string; createdAt: Date }>(Prisma.sql`
      SELECT DISTINCT ON (t."mode") t."id", t."mode", t."status", t."createdAt"
      FROM "Order" o JOIN "Order" t ON t."sessionId" = o."sessionId"
      WHERE o."id" = ${orderId} AND t."mode" <> o."mode" AND t."conditions" = o."conditions"
        AND (t."steps" -> 'fraud' ->> 'status' = 'rejected') = (o."steps" -> 'fraud' ->> 'status' = 'rejected')
      ORDER BY t."mode", t."createdAt" DESC`),
    sql<{ id: string; step: string }>(
      Prisma.sql`SELECT m."id", m."step" FROM "OutboxMessage" m WHERE m."orderId" = ${orderId} ORDER BY m."createdAt"`,
    ),
  ]);
  return {
    // Written only from the contract's values (see server/orders/change.ts).
    sameConditions: twins
      .map((twin) => ({
        id: twin.id,
        mode: twin.mode as CheckoutMode,
        status: twin.status as OrderStatus,
        createdAt: twin.createdAt.toISOString(),
      }))
      .sort((a, b) => CHECKOUT_MODES.indexOf(a.mode) - CHECKOUT_MODES.indexOf(b.mode)),
    jobs: jobs.map((job) => ({ step: job.step as SideEffectStep, jobId: job.id })),
  };
}
