// The outbox's write side: the rows an order change hands to the queues, written by the change's own
// statement (so they commit, or not, with it), and their jobs added to BullMQ right after that commit
// by the process that wrote them. A row whose job did not get there (Redis away, the process gone
// between its commit and the add) is still waiting in the outbox when the relay sweeps it
// (./relay.ts); the job id is the row's id, so a job added twice is added once.
import { COMPENSATION_STEPS, QUEUED_MODES, type SideEffectStep } from "../contract";
import { Prisma } from "../db";
import { log, messageOf } from "../log";
import { sideEffectQueue } from "../queues";

/** An outbox row: its id is its job's id. */
export interface OutboxRow {
  id: string;
  orderId: string;
  step: SideEffectStep;
}

/** CTEs for a statement whose changed order row is the CTE `changed`: one outbox row per step (a row
 * that exists already is kept, so a repeated change queues nothing twice), as the CTE `queued`. A
 * compensation is queued only if the change left it pending on an order of a queued mode (an inline
 * mode's checkout runs it itself). */
export function outboxRows(steps: readonly SideEffectStep[]): Prisma.Sql {
  return Prisma.sql`queued AS (
    INSERT INTO "OutboxMessage" ("id", "orderId", "step")
    SELECT gen_random_uuid()::text, changed."id", step FROM changed, unnest(${[...steps]}::text[]) AS step
    WHERE step <> ALL(${[...COMPENSATION_STEPS]}::text[])
      OR (changed."mode" = ANY(${[...QUEUED_MODES]}::text[]) AND changed."steps" -> step ->> 'status' = 'pending')
    ON CONFLICT ("orderId", "step") DO NOTHING
    RETURNING "id", "orderId", "step"
  )`;
}

/** The rows of `queued`, as a JSON array column of the statement's result. */
export const QUEUED_ROWS = Prisma.sql`(SELECT coalesce(json_agg(q), '[]'::json) FROM queued q) AS "queued"`;

/** Adds the rows' jobs, one addBulk per queue (at most one round trip each). */
export async function addJobs(rows: readonly OutboxRow[]): Promise<void> {
  const steps = [...new Set(rows.map((row) => row.step))];
  await Promise.all(
    steps.map((step) =>
      sideEffectQueue(step).addBulk(
        rows
          .filter((row) => row.step === step)
          .map((row) => ({ name: step, data: { orderId: row.orderId, step }, opts: { jobId: row.id } })),
      ),
    ),
  );
}

/** Adds the jobs of rows a change just committed, without holding up the caller's answer: a failed
 * add leaves them to the relay's next sweep. */
export function handOver(rows: readonly OutboxRow[]): void {
  if (rows.length === 0) return;
  addJobs(rows).catch((error: unknown) =>
    log.debug(
      { component: "outbox", orders: [...new Set(rows.map((row) => row.orderId))], error: messageOf(error) },
      "jobs not added after commit; the relay sends them",
    ),
  );
}
