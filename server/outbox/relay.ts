// The outbox relay: moves committed outbox rows into BullMQ. The outbox id becomes the job id, so a
// relay that runs twice (or two relays at once) enqueues each row once. Woken by Postgres NOTIFY at
// commit, with a slow poll as the safety net; if Redis is down the rows wait and go out on a later run.
import pg from "pg";
import { config } from "../config";
import { SIDE_EFFECT_STEPS } from "../contract";
import { Prisma, sql, sqlDurably, utc } from "../db";
import { errorReporter, log } from "../log";
import { sideEffectQueue } from "../queues";
import { OUTBOX_CHANNEL } from "./write";

const BATCH = 200;
const relayLog = log.child({ component: "outbox relay" });

/** Dispatches one batch; returns how many rows went out. One statement claims the batch (marks it
 * dispatched as it reads it; SKIP LOCKED keeps two relays off each other's rows), then BullMQ gets the
 * jobs, with the outbox id as the job id so an enqueue repeated for any reason is a no-op. If Redis
 * refuses, the rows are handed back for the next run; if this process dies in between, the reconciler
 * finds the dispatched steps with no job behind them and hands them back (server/repair/reconcile.ts). */
export async function relayOnce(): Promise<number> {
  // Durably, whatever the process's commits: the jobs go where Postgres cannot take them back, so the
  // rows (and the step changes that wrote them) must survive any crash first (see commitReplayably).
  const rows = await sqlDurably<{ id: string; orderId: string; step: string }>(Prisma.sql`
    UPDATE "OutboxMessage" SET "dispatchedAt" = ${utc(new Date())}
    WHERE "id" IN (SELECT "id" FROM "OutboxMessage" WHERE "dispatchedAt" IS NULL
      ORDER BY "createdAt" LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
    RETURNING "id", "orderId", "step"`);
  try {
    await Promise.all(
      SIDE_EFFECT_STEPS.map((step) => {
        const jobs = rows.filter((row) => row.step === step);
        return jobs.length
          ? sideEffectQueue(step).addBulk(
              jobs.map((row) => ({
                name: step,
                data: { orderId: row.orderId, step },
                opts: { jobId: row.id },
              })),
            )
          : null;
      }),
    );
  } catch (error) {
    await sql(Prisma.sql`UPDATE "OutboxMessage" SET "dispatchedAt" = NULL
      WHERE "id" = ANY(${rows.map((row) => row.id)}::text[])`);
    throw error;
  }
  return rows.length;
}

export interface Relay {
  /** Run now (coalesced with a run already in progress). */
  wake: () => void;
  /** Settles once the relay listens for NOTIFY (or its first try has failed: it polls meanwhile). */
  ready: Promise<void>;
  stop: () => Promise<void>;
}

/** While the LISTEN connection is away (a Postgres restart), the relay polls at least this often:
 * NOTIFYs sent meanwhile reached no one. */
const UNHEARD_POLL_MS = 1000;
/** Reconnect backoff: first try after the minimum, doubling up to the maximum. */
const RELISTEN_MIN_MS = 250;
const RELISTEN_MAX_MS = 10_000;

export function startRelay({ pollMs = 1000 }: { pollMs?: number } = {}): Relay {
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  const report = errorReporter("outbox relay", relayLog);

  const drain = async () => {
    do {
      again = false;
      try {
        while (!stopped && (await relayOnce()) === BATCH) {}
      } catch (error) {
        // Redis or Postgres unavailable: the rows stay in the outbox for the next run.
        report(error);
      }
    } while (again && !stopped);
  };
  const wake = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = drain().finally(() => {
      running = null;
    });
  };

  const listener = listen(wake, Math.min(pollMs, UNHEARD_POLL_MS));
  const timer = setInterval(wake, pollMs);
  wake();

  return {
    wake,
    ready: listener.ready,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await listener.stop();
      await running;
    },
  };
}

/** The relay's dedicated LISTEN connection. When it is lost it comes back by itself, with backoff; until
 * then `wake` runs every `unheardPollMs`, and once more when it is back (for what was sent meanwhile).
 * Lost and back are logged once each. */
function listen(
  wake: () => void,
  unheardPollMs: number,
): { ready: Promise<void>; stop: () => Promise<void> } {
  let client: pg.Client | null = null;
  let stopped = false;
  let lost = false;
  let delay = RELISTEN_MIN_MS;
  let retry: NodeJS.Timeout | null = null;
  let unheard: NodeJS.Timeout | null = null;

  const onLost = (failed: pg.Client, reason: string) => {
    if (failed !== client || stopped) return;
    client = null;
    failed.end().catch(() => {});
    if (!lost) relayLog.warn({ error: reason }, "Postgres LISTEN connection lost; polling until it is back");
    lost = true;
    unheard ??= setInterval(wake, unheardPollMs);
    retry = setTimeout(connect, delay);
    delay = Math.min(delay * 2, RELISTEN_MAX_MS);
  };

  const connect = async (): Promise<void> => {
    retry = null;
    const next = new pg.Client({ connectionString: config.DATABASE_URL });
    client = next;
    next.on("error", (error) => onLost(next, error.message));
    next.on("end", () => onLost(next, "connection ended"));
    next.on("notification", wake);
    try {
      await next.connect();
      await next.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch (error) {
      onLost(next, error instanceof Error ? error.message : String(error));
      return;
    }
    if (stopped || next !== client) return;
    delay = RELISTEN_MIN_MS;
    if (unheard) clearInterval(unheard);
    unheard = null;
    if (lost) {
      relayLog.info("Postgres LISTEN connection back");
      lost = false;
      wake();
    }
  };

  const ready = connect();
  return {
    ready,
    stop: async () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      if (unheard) clearInterval(unheard);
      await ready;
      await client?.end().catch(() => {});
    },
  };
}
