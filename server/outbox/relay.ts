// The outbox relay, the safety net of the hand-over: every process adds the jobs of the outbox rows it
// commits itself, right after the commit (./write.ts), and a job's first claim marks its row dispatched
// (server/orders/change.ts). A row still unmarked RELAY_GRACE_MS after it was written either waits in a
// queue behind others (adding it again is a no-op: the job id is the row's id) or never got there
// (Redis was away, or its process died between the commit and the add): the relay adds it, so every
// committed row reaches BullMQ. It polls; nothing wakes it, since on the happy path it has nothing to do.
import { Prisma, sql, sqlDurably, utc } from "../db";
import { errorReporter, log } from "../log";
import { addJobs, type OutboxRow } from "./write";

const BATCH = 200;
/** How long a row's own process has to add its job before the relay does. */
export const RELAY_GRACE_MS = 2_000;
const relayLog = log.child({ component: "outbox relay" });

/** Dispatches one batch of rows older than `graceMs`; returns how many went out. One statement claims
 * the batch (marks it dispatched as it reads it; SKIP LOCKED keeps two relays off each other's rows),
 * then BullMQ gets the jobs. If Redis refuses, the rows are handed back for the next run; if this
 * process dies in between, the reconciler finds the dispatched steps with no job behind them and hands
 * them back (server/repair/reconcile.ts). */
export async function relayOnce({ graceMs = RELAY_GRACE_MS }: { graceMs?: number } = {}): Promise<number> {
  // Durably, whatever the process's commits: the jobs go where Postgres cannot take them back, so the
  // rows (and the step changes that wrote them) must survive any crash first (see commitReplayably).
  const rows = await sqlDurably<OutboxRow>(Prisma.sql`
    UPDATE "OutboxMessage" SET "dispatchedAt" = ${utc(new Date())}
    WHERE "id" IN (SELECT "id" FROM "OutboxMessage"
      WHERE "dispatchedAt" IS NULL AND "createdAt" <= ${utc(new Date(Date.now() - graceMs))}
      ORDER BY "createdAt" LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
    RETURNING "id", "orderId", "step"`);
  if (rows.length === 0) return 0;
  try {
    await addJobs(rows);
  } catch (error) {
    await sql(Prisma.sql`UPDATE "OutboxMessage" SET "dispatchedAt" = NULL
      WHERE "id" = ANY(${rows.map((row) => row.id)}::text[])`);
    throw error;
  }
  return rows.length;
}

export interface Relay {
  stop: () => Promise<void>;
}

/** Sweeps every `pollMs` (never two at once; a full batch is followed by the next at once). */
export function startRelay({
  pollMs = 1000,
  graceMs = RELAY_GRACE_MS,
}: {
  pollMs?: number;
  graceMs?: number;
} = {}): Relay {
  let running: Promise<void> | null = null;
  let stopped = false;
  const report = errorReporter("outbox relay", relayLog);
  const sweep = () => {
    running ??= (async () => {
      try {
        while (!stopped && (await relayOnce({ graceMs })) === BATCH) {}
      } catch (error) {
        // Redis or Postgres unavailable: the rows stay in the outbox for the next sweep.
        report(error);
      }
    })().finally(() => {
      running = null;
    });
  };
  const timer = setInterval(sweep, pollMs);
  sweep();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
