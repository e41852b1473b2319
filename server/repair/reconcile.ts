// The reconciler: no job may exist only in Redis. The outbox guarantees a side effect reaches BullMQ,
// but a Redis that restarts without its append-only file (or is flushed) forgets the jobs it held,
// while Postgres still says their steps wait. Every RECONCILE_EVERY_MS each worker process reads the
// unfinished, already dispatched side effects of live queued orders and the compensations of undone
// ones (one indexed query), asks BullMQ about each one's job (its id is the outbox row's id) and hands
// every step whose job is gone back to the outbox; the relay's next sweep enqueues it again. Exactly once, with any number of reconcilers at once: the
// re-drive is one guarded UPDATE (the row still dispatched when it was, the order unchanged since it
// was read), the job id makes a second enqueue a no-op, and a redundant run would still find its step
// claimed or done and its provider calls deduplicated by idempotency key.
// The same sweep finishes the undos undone orders still owe at a provider (a void the gateway failed,
// in any mode): see server/orders/compensate.ts.
import { randomUUID } from "node:crypto";
import {
  COMPENSATION_STEPS,
  LIVE_ORDER_STATUSES,
  QUEUED_MODES,
  REDROVE_SIDE_EFFECT,
  SIDE_EFFECT_STEPS,
  type SideEffectStep,
  type StepStatus,
  UNDONE_ORDER_STATUSES,
} from "../contract";
import { Prisma, sql, utc } from "../db";
import { log, messageOf, noteOutage } from "../log";
import { finishOwedUndos, type OwedUndos } from "../orders/compensate";
import { recordDeadLetter } from "../orders/run";
import { sideEffectQueue } from "../queues";
import { redis, redisKey } from "../redis";

const reconcilerLog = log.child({ component: "reconciler" });

/** Steps a job should still be behind: waiting, running, between retries, or in the dead-letter set. */
const UNFINISHED: readonly StepStatus[] = ["pending", "running", "retrying", "failed"];
/** A row dispatched more recently may still be on its way to BullMQ (the relay marks a batch, then
 * enqueues it): it is not taken for lost before this. */
const DISPATCH_GRACE_MS = 5_000;
/** Looked at per sweep, oldest dispatch first; a bigger loss takes a few sweeps. */
const SWEEP_LIMIT = 500;

interface Candidate {
  id: string;
  orderId: string;
  step: SideEffectStep;
  status: StepStatus;
  version: number;
  /** As text, to compare exactly: a row dispatched again since it was read is not re-driven twice. */
  dispatchedAt: string;
}

export interface Redrive {
  orderId: string;
  step: SideEffectStep;
  /** The job id the relay enqueues it under. */
  jobId: string;
  /** What BullMQ said about the old job: "unknown" (lost) or "completed" (gone by, the step not done). */
  was: "unknown" | "completed";
}

export interface ReconcileResult {
  checked: number;
  redriven: Redrive[];
  /** Jobs in the failed set whose order did not show it (the worker that failed them died first). */
  deadLettered: number;
  /** Undos owed at a provider: finished now, or failed again (tried again next sweep). */
  undos: OwedUndos;
}

export async function reconcileOnce({
  graceMs = DISPATCH_GRACE_MS,
}: {
  /** Rows dispatched more recently than this are left alone (tests of the guards pass 0). */
  graceMs?: number;
} = {}): Promise<ReconcileResult> {
  // Postgres and the providers only: a Redis outage does not hold it up.
  const undos = await finishOwedUndos();
  const candidates = await sql<Candidate>(Prisma.sql`
    SELECT m."id", m."orderId", m."step", o."steps" -> m."step" ->> 'status' AS "status", o."version",
      m."dispatchedAt"::text AS "dispatchedAt"
    FROM "Order" o JOIN "OutboxMessage" m ON m."orderId" = o."id"
    WHERE (o."status" = ANY(${[...LIVE_ORDER_STATUSES]}::text[])
        OR (o."status" = ANY(${[...UNDONE_ORDER_STATUSES]}::text[]) AND m."step" = ANY(${[...COMPENSATION_STEPS]}::text[])))
      AND o."mode" = ANY(${[...QUEUED_MODES]}::text[])
      AND m."dispatchedAt" < ${utc(new Date(Date.now() - graceMs))}
      AND o."steps" -> m."step" ->> 'status' = ANY(${[...UNFINISHED]}::text[])
    ORDER BY m."dispatchedAt" LIMIT ${SWEEP_LIMIT}`);
  // Any Redis error fails the whole sweep: a job we could not ask about is never taken for lost.
  const states = await Promise.all(
    candidates.map(async (candidate) => {
      const state = await sideEffectQueue(candidate.step).getJobState(candidate.id);
      return (await withoutOrphan(candidate, state)) ? "unknown" : state;
    }),
  );

  const lost: (Candidate & { was: Redrive["was"] })[] = [];
  let deadLettered = 0;
  for (const [index, candidate] of candidates.entries()) {
    const state = states[index];
    // A completed job whose step is not done was read before the step's own change committed (the
    // version guard below then skips it), or was truly cut short: run it again under a new job id,
    // since BullMQ ignores an add whose id is still in its completed set.
    if (state === "unknown" || state === "completed") lost.push({ ...candidate, was: state });
    else if (state === "failed" && candidate.status !== "failed") {
      await recordDeadLetter(
        candidate.orderId,
        candidate.step,
        "Failed in the queue (found by the reconciler)",
      );
      reconcilerLog.warn(
        { orderId: candidate.orderId, step: candidate.step, jobId: candidate.id },
        "dead letter: a job failed in the queue without its step saying so",
      );
      deadLettered++;
    }
  }
  const redriven = lost.length ? await redrive(lost) : [];
  if (redriven.length) await countRedrives(redriven);
  return { checked: candidates.length, redriven, deadLettered, undos };
}

/** BullMQ's states of a job whose id sits in one of the queue's lists or sets. */
const LISTED = new Set(["waiting", "active", "delayed", "prioritized", "waiting-children", "failed"]);

/** Whether the job's id is listed while its data is gone: Redis lost the job's hash and kept its id in a
 * list, as a failover may (BullMQ's own scripts never leave that state). A worker takes such a job with
 * no data and fails it as invalid, recreating a hash without it; a dead letter it is not, since the step
 * never ran. The listing is removed (BullMQ refuses while a worker holds the job's lock, and then it is
 * left for a later sweep), so the job is lost outright and re-driven under the same id. */
async function withoutOrphan(candidate: Candidate, state: string): Promise<boolean> {
  if (!LISTED.has(state)) return false;
  const queue = sideEffectQueue(candidate.step);
  if ((await redis("command").hexists(queue.toKey(candidate.id), "data")) === 1) return false;
  const removed = (await queue.remove(candidate.id)) === 1;
  if (removed)
    reconcilerLog.warn(
      { orderId: candidate.orderId, step: candidate.step, jobId: candidate.id, state },
      "a job listed without its data: removed, to be re-driven",
    );
  return removed;
}

/** Hands the steps back to the outbox in one statement (the relay sweeps them within its poll). */
async function redrive(lost: (Candidate & { was: Redrive["was"] })[]): Promise<Redrive[]> {
  const jobIds = lost.map((row) => (row.was === "unknown" ? row.id : randomUUID()));
  const rows = await sql<{
    id: string;
    orderId: string;
    step: SideEffectStep;
    was: Redrive["was"];
  }>(Prisma.sql`
    WITH lost AS (
      SELECT * FROM unnest(${lost.map((row) => row.id)}::text[], ${jobIds}::text[],
        ${lost.map((row) => row.version)}::int[], ${lost.map((row) => row.dispatchedAt)}::text[],
        ${lost.map((row) => row.was)}::text[]) AS l("id", "jobId", "version", "dispatchedAt", "was")
    ), redriven AS (
      UPDATE "OutboxMessage" m SET "id" = lost."jobId", "dispatchedAt" = NULL
      FROM lost, "Order" o
      WHERE m."id" = lost."id" AND m."dispatchedAt"::text = lost."dispatchedAt"
        AND o."id" = m."orderId" AND o."version" = lost."version"
      RETURNING m."id", m."orderId", m."step", lost."was"
    )
    SELECT * FROM redriven`);
  return rows.map(({ id, orderId, step, was }) => {
    reconcilerLog.warn(
      { orderId, step, jobId: id, was },
      was === "unknown"
        ? `${REDROVE_SIDE_EFFECT}: its job was gone from Redis`
        : `${REDROVE_SIDE_EFFECT}: its job completed without finishing the step`,
    );
    return { orderId, step, jobId: id, was };
  });
}

function redrivesKey(): string {
  return redisKey("reconciler", "redriven");
}

/** Kept in Redis for the developer console (it counts from the loss on: a second loss resets it). */
async function countRedrives(redriven: Redrive[]): Promise<void> {
  const at = new Date().toISOString();
  const transaction = redis("command").multi();
  for (const { step } of redriven)
    transaction.hincrby(redrivesKey(), step, 1).hset(redrivesKey(), `${step}:at`, at);
  await transaction.exec();
}

export interface RedriveCount {
  count: number;
  lastAt: string | null;
}

export async function redriveCounts(): Promise<Record<SideEffectStep, RedriveCount>> {
  const stored = await redis("command").hgetall(redrivesKey());
  return Object.fromEntries(
    SIDE_EFFECT_STEPS.map((step) => [
      step,
      { count: Number(stored[step] ?? 0), lastAt: stored[`${step}:at`] ?? null },
    ]),
  ) as Record<SideEffectStep, RedriveCount>;
}

export interface Reconciler {
  stop: () => Promise<void>;
}

/** Sweeps every `everyMs` (never two at once); a failed sweep (Redis or Postgres away) is reported
 * once and tried again at the next tick. */
export function startReconciler({ everyMs }: { everyMs: number }): Reconciler {
  let running: Promise<void> | null = null;
  let lastProblem = "";
  const tick = () => {
    running ??= reconcileOnce()
      .then(() => {
        if (lastProblem) reconcilerLog.info("sweeping again");
        lastProblem = "";
      })
      .catch((error: unknown) => {
        const message = messageOf(error);
        // A store's outage is logged once by itself; the sweeps it fails are not worth a line each.
        if (message !== lastProblem && !noteOutage(error))
          reconcilerLog.warn({ error: message }, "sweep failed; trying again at the next tick");
        lastProblem = message;
      })
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, everyMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
