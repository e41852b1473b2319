// The outbox relay: moves committed outbox rows into BullMQ. The outbox id becomes the job id, so a
// relay that runs twice (or two relays at once) enqueues each row once. Woken by Postgres NOTIFY at
// commit, with a slow poll as the safety net; if Redis is down the rows wait and go out on a later run.
import pg from "pg";
import { config } from "../config";
import { SIDE_EFFECT_STEPS } from "../contract";
import { prisma } from "../db";
import { errorReporter } from "../log";
import { sideEffectQueue } from "../queues";
import { OUTBOX_CHANNEL } from "./write";

const BATCH = 200;

/** Dispatches one batch; returns how many rows went out. No transaction is held while Redis answers:
 * the job id (the outbox id) makes a second enqueue of the same row a no-op, so two relays racing, or
 * one that dies before marking its rows, still enqueue each row once. */
export async function relayOnce(): Promise<number> {
  const rows = await prisma.outboxMessage.findMany({
    where: { dispatchedAt: null },
    orderBy: { createdAt: "asc" },
    take: BATCH,
    select: { id: true, orderId: true, step: true },
  });
  for (const step of SIDE_EFFECT_STEPS) {
    const jobs = rows.filter((row) => row.step === step);
    if (jobs.length) {
      await sideEffectQueue(step).addBulk(
        jobs.map((row) => ({ name: step, data: { orderId: row.orderId, step }, opts: { jobId: row.id } })),
      );
    }
  }
  if (rows.length) {
    await prisma.outboxMessage.updateMany({
      where: { id: { in: rows.map((row) => row.id) } },
      data: { dispatchedAt: new Date() },
    });
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
