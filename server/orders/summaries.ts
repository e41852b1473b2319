// A session's orders, a page at a time, as the list shows them (contract: orderSummaryView). One
// statement on the (sessionId, createdAt) index; each order's steps leave Postgres as their statuses
// only, never with their attempt histories, so a page stays a few kilobytes however the orders went.

import { z } from "zod";
import {
  type MyOrdersPage,
  orderSummaryView,
  STEP_NAMES,
  type StepName,
  stepStatusSchema,
} from "../contract";
import { prisma } from "../db";

const row = z.object({
  id: z.string(),
  status: z.string(),
  mode: z.string(),
  totalCents: z.number(),
  version: z.number(),
  createdAt: z.date(),
  confirmedAt: z.date().nullable(),
  settledAt: z.date().nullable(),
  stepStatuses: z.partialRecord(z.enum(STEP_NAMES), stepStatusSchema),
});

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** Newest first; `cursor` (an order of this session) starts the page just after it. */
export async function ordersOfSession(
  sessionId: string,
  { cursor, limit }: { cursor?: string; limit: number },
): Promise<MyOrdersPage> {
  const rows = await prisma.$queryRaw<unknown[]>`
    SELECT o.id, o.status, o.mode, o."totalCents", o.version, o."createdAt", o."confirmedAt", o."settledAt",
           (SELECT coalesce(jsonb_object_agg(step.key, step.value -> 'status'), '{}'::jsonb)
              FROM jsonb_each(o.steps) AS step) AS "stepStatuses"
      FROM "Order" o
     WHERE o."sessionId" = ${sessionId}
       AND (${cursor ?? null}::text IS NULL
            OR (o."createdAt", o.id) < (SELECT c."createdAt", c.id FROM "Order" c
                                         WHERE c.id = ${cursor ?? null} AND c."sessionId" = ${sessionId}))
     ORDER BY o."createdAt" DESC, o.id DESC
     LIMIT ${limit + 1}`;
  const page = rows.slice(0, limit).map((raw) => {
    const order = row.parse(raw);
    const steps = STEP_NAMES.flatMap((name: StepName) => {
      const status = order.stepStatuses[name];
      return status ? [{ name, status }] : [];
    });
    return orderSummaryView.parse({
      ...order,
      createdAt: iso(order.createdAt),
      confirmedAt: iso(order.confirmedAt),
      settledAt: iso(order.settledAt),
      steps,
    });
  });
  return { orders: page, nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
}
