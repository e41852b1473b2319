// Where the worker processes are, and what they hold, as the web process sees them. Each worker keeps
// one field of a Redis hash (in this deployment's namespace) up to date: its /metrics address (null
// when metrics are off) and how many of its jobs wait for a provider slot, with an expiry it renews
// every few seconds. A worker that stops removes its field; one that dies is ignored once its expiry
// has passed (and the next reader deletes it). So any number of workers, on any number of machines,
// can be found and summed without a fixed list of ports.
import { hostname } from "node:os";
import { z } from "zod";
import { jsonOrNull, type SideEffectStep, sideEffectStepSchema } from "../contract";
import { errorReporter } from "../log";
import { redis, redisKey } from "../redis";
import { jobsWaitingForProvider, onProviderWaitsChange } from "./jobs";

const HEARTBEAT_MS = 5_000;
/** Three missed heartbeats and a worker counts as gone. */
const EXPIRES_AFTER_MS = 3 * HEARTBEAT_MS;
/** Provider waits change with every call under load: publish at most this often. */
const PUBLISH_AT_MOST_EVERY_MS = 200;

const presenceSchema = z.object({
  metricsUrl: z.url({ protocol: /^http$/ }).nullable(),
  waitingForProvider: z.partialRecord(sideEffectStepSchema, z.number().int().min(0)),
  expiresAt: z.number(),
});
export type WorkerPresence = z.infer<typeof presenceSchema> & { id: string };

function workersKey(): string {
  return redisKey("metrics", "workers");
}

/** The live workers (expired ones are removed on the way). */
export async function liveWorkers(): Promise<WorkerPresence[]> {
  const fields = await redis("command").hgetall(workersKey());
  const now = Date.now();
  const live: WorkerPresence[] = [];
  const gone: string[] = [];
  for (const [id, text] of Object.entries(fields)) {
    const parsed = presenceSchema.safeParse(jsonOrNull(text));
    if (parsed.success && parsed.data.expiresAt > now) live.push({ id, ...parsed.data });
    else gone.push(id);
  }
  if (gone.length) await redis("command").hdel(workersKey(), ...gone);
  return live;
}

/** Jobs waiting for a provider slot, per queue, over every live worker. */
export async function providerWaitsOfAllWorkers(): Promise<Record<SideEffectStep, number>> {
  const total = jobsWaitingForProvider();
  for (const queue of Object.keys(total) as SideEffectStep[]) total[queue] = 0;
  for (const worker of await liveWorkers()) {
    for (const [queue, count] of Object.entries(worker.waitingForProvider) as [SideEffectStep, number][]) {
      total[queue] += count;
    }
  }
  return total;
}

export interface Presence {
  /** Removes this worker from the list (a graceful stop). */
  stop: () => Promise<void>;
}

/** Keeps this worker listed until stop(). */
export function announceWorker(metricsUrl: string | null): Presence {
  const id = `${hostname()}:${process.pid}`;
  const report = errorReporter("worker presence");
  let timer: NodeJS.Timeout | null = null;
  let lastPublished = 0;
  let stopped = false;

  const publish = () => {
    if (stopped) return;
    lastPublished = Date.now();
    const presence = {
      metricsUrl,
      waitingForProvider: jobsWaitingForProvider(),
      expiresAt: lastPublished + EXPIRES_AFTER_MS,
    } satisfies z.input<typeof presenceSchema>;
    // Redis down: the next heartbeat or change tries again.
    redis("command").hset(workersKey(), id, JSON.stringify(presence)).catch(report);
  };
  const schedule = (delay: number) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(beat, delay);
  };
  const beat = () => {
    publish();
    schedule(HEARTBEAT_MS);
  };

  onProviderWaitsChange(() => {
    // Soon, and coalesced: a burst of changes costs one write.
    schedule(Math.max(0, lastPublished + PUBLISH_AT_MOST_EVERY_MS - Date.now()));
  });
  beat();

  return {
    stop: async () => {
      stopped = true;
      onProviderWaitsChange(null);
      if (timer) clearTimeout(timer);
      await redis("command")
        .hdel(workersKey(), id)
        .catch(() => {});
    },
  };
}
