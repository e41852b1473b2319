// The outbox relay: moves committed outbox rows into BullMQ. The outbox id becomes the job id, so a
// relay that runs twice (or two relays at once) enqueues each row once. Woken by Postgres NOTIFY at
// commit, with a slow poll as the safety net; if Redis is down the rows wait and go out on a later run.
import pg from "pg";
import { config } from "../config";
import { SIDE_EFFECT_STEPS } from "../contract";
import { Prisma, sql, utc } from "../db";
import { errorReporter } from "../log";
import { sideEffectQueue } from "../queues";
import { OUTBOX_CHANNEL } from "./write";

const BATCH = 200;

/** Dispatches one batch; returns how many rows went out. No transaction is held while Redis answers:
 * the job id (the outbox id) makes a second enqueue of the same row a no-op, so two relays racing, or
 * one that dies before marking its rows, still enqueue each row once. */
export async function relayOnce(): Promise<number> {
  const rows = await sql<{ id: string; orderId: string; step: string }>(Prisma.sql`
    SELECT "id", "orderId", "step" FROM "OutboxMessage"
    WHERE "dispatchedAt" IS NULL ORDER BY "createdAt" LIMIT ${BATCH}`);
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
  if (rows.length) {
    await sql(Prisma.sql`UPDATE "OutboxMessage" SET "dispatchedAt" = ${utc(new Date())}
      WHERE "id" = ANY(${rows.map((row) => row.id)}::text[])`);
  }
  return rows.length;
}

export interface Relay {
  /** Run now (coalesced with a run already in progress). */
  wake: () => void;
  /** Settles once the relay listens for NOTIFY (or has fallen back to polling only). */
  ready: Promise<void>;
  stop: () => Promise<void>;
}

export function startRelay({ pollMs = 1000 }: { pollMs?: number } = {}): Relay {
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  const report = errorReporter("outbox relay");

  const drain = async () => {
    do {
      again = false;
      try {
        while (!stopped && (await relayOnce()) === BATCH) {}
      } catch (error) {
        // Redis or Postgres unavailable: the rows stay in the outbox for the next run.
        report(error instanceof Error ? error : new Error(String(error)));
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

  const listener = new pg.Client({ connectionString: config.DATABASE_URL });
  const listening = listener
    .connect()
    .then(() => listener.query(`LISTEN ${OUTBOX_CHANNEL}`))
    .then(() => {
      listener.on("notification", wake);
    })
    .catch((error) => console.warn("outbox relay: LISTEN unavailable, polling only:", error.message));
  listener.on("error", (error) => console.warn("outbox relay listener:", error.message));

  const timer = setInterval(wake, pollMs);
  wake();

  return {
    wake,
    ready: listening,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await listening;
      await listener.end().catch(() => {});
      await running;
    },
  };
}
