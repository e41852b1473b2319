// The outbox's write side: the rows an order change hands to the queues, written by the change's own
// statement (so they commit, or not, with it), and the NOTIFY that wakes the relay at that commit.
import { COMPENSATION_STEPS, QUEUED_MODES, type SideEffectStep } from "../contract";
import { Prisma } from "../db";

/** The Postgres channel the outbox relay listens on; NOTIFY is delivered at commit. */
export const OUTBOX_CHANNEL = "storefront_outbox";

/** CTEs for a statement whose changed order row is the CTE `changed`: one outbox row per step (a row
 * that exists already is kept, so a repeated change queues nothing twice), and a NOTIFY when any was
 * written. A compensation is queued only if the change left it pending on an order of a queued mode
 * (an inline mode's checkout runs it itself). The statement must read `notified` for Postgres to run it. */
export function outboxRows(steps: readonly SideEffectStep[]): Prisma.Sql {
  return Prisma.sql`queued AS (
    INSERT INTO "OutboxMessage" ("id", "orderId", "step")
    SELECT gen_random_uuid()::text, changed."id", step FROM changed, unnest(${[...steps]}::text[]) AS step
    WHERE step <> ALL(${[...COMPENSATION_STEPS]}::text[])
      OR (changed."mode" = ANY(${[...QUEUED_MODES]}::text[]) AND changed."steps" -> step ->> 'status' = 'pending')
    ON CONFLICT ("orderId", "step") DO NOTHING
    RETURNING "orderId"
  ), notified AS (
    SELECT pg_notify(${OUTBOX_CHANNEL}, min("orderId")) FROM queued HAVING count(*) > 0
  )`;
}
