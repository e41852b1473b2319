// The outbox relay: moves committed outbox rows into BullMQ. The outbox id becomes the job id, so a
// relay that runs twice (or two relays at once) enqueues each row once. Woken by Postgres NOTIFY at
// commit, with a slow poll as the safety net; if Redis is down the rows wait and go out on a later run.
import pg from "pg";
import { config } from "../config";
import { sideEffectStepSchema } from "../contract";
import { prisma } from "../db";
import { errorReporter } from "../log";
import { OUTBOX_CHANNEL } from "../orders/state";
import { sideEffectQueue } from "../queues";

const BATCH = 200;

/** Dispatches one batch; returns how many rows went out. */
export async function relayOnce(): Promise<number> {
  return prisma.$transaction(
    async (tx) => {
      const rows = await tx.$queryRaw<{ id: string; orderId: string; step: string }[]>`
        SELECT "id", "orderId", "step" FROM "OutboxMessage"
        WHERE "dispatchedAt" IS NULL
        ORDER BY "createdAt"
        LIMIT ${BATCH}
        FOR UPDATE SKIP LOCKED`;
      for (const row of rows) {
        const step = sideEffectStepSchema.parse(row.step);
        await sideEffectQueue(step).add(step, { orderId: row.orderId, step }, { jobId: row.id });
      }
      if (rows.length) {
        await tx.outboxMessage.updateMany({
          where: { id: { in: rows.map((row) => row.id) } },
          data: { dispatchedAt: new Date() },
        });
      }
      return rows.length;
    },
    { timeout: 15_000 },
  );
}

export interface Relay {
  /** Run now (coalesced with a run already in progress). */
  wake: () => void;
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
    .then(() => listener.on("notification", wake))
    .catch((error) => console.warn("outbox relay: LISTEN unavailable, polling only:", error.message));
  listener.on("error", (error) => console.warn("outbox relay listener:", error.message));

  const timer = setInterval(wake, pollMs);
  wake();

  return {
    wake,
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await listening;
      await listener.end().catch(() => {});
      await running;
    },
  };
}
