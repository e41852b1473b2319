// The providers' capacity: how many calls at once a simulated provider takes, across all processes, as a
// rate-limited third-party API does. A call holds a slot in Redis for as long as it lasts; callers waiting
// for one are woken when a slot is given back (Redis pub/sub), not by polling.
// The capacity slots are the project's own rather than a Redis semaphore library's (redis-semaphore's
// callers each retry every `retryInterval` until a slot is free): here one waiter per process asks, woken
// by a release; the capacity is a knob changed live, a raised one lets waiters in at once, a dead
// holder's slot expires soon after its call should have ended, and with Redis away a call goes ahead
// unguarded. How a provider's limit makes callers wait is what the shop shows, so it is spelled out.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Result } from "ioredis";
import { SERVICES, type ServiceName } from "../contract";
import { faultPoint } from "../faults";
import { waitingForProvider } from "../metrics/jobs";
import { defineScript, failFast, type RedisClient, redis, redisKey, unavailable } from "../redis";
import { DownstreamError, deadlinePassed } from "./error";
import { getSettings } from "./settings";

/** A capacity slot is given back when the call ends, or expires this long after the call should have
 * ended, if its holder died mid-call: as a provider drops a caller that went silent, a crashed worker
 * does not keep others waiting. */
export const SLOT_GRACE_MS = 2_000;
/** How long a caller waits for a free slot before the call fails as "busy". */
const SLOT_WAIT_MS = 30_000;
/** How often the first waiter in line asks again when no release woke it: a holder that died (its slot
 * expired), a capacity that was raised, a release published before we listened. */
const SLOT_RECHECK_MS = 500;

/** How long a refused caller's "someone is waiting" mark lasts: longer than SLOT_RECHECK_MS, so it
 * holds while anyone waits, since the first waiter in line asks again at least that often. */
const WANTED_TTL_MS = 4 * SLOT_RECHECK_MS;

// Atomically: forget expired holders; take a slot if fewer than `capacity` are held, else mark the
// service as wanted (a release then wakes the waiters).
const ACQUIRE_SLOT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
  return 1
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[5])
return 0`;

// Atomically: give the slot back, and only if somebody waits, tell every process whose callers wait
// for this service (with nobody waiting, which is almost always, a release costs no message).
const RELEASE_SLOT = `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
return 0`;
defineScript("acquireSlot", ACQUIRE_SLOT, 2);
defineScript("releaseSlot", RELEASE_SLOT, 2);

declare module "ioredis" {
  interface RedisCommander<Context> {
    acquireSlot(
      holders: string,
      wanted: string,
      now: number,
      capacity: number,
      holdUntil: number,
      token: string,
      wantedTtlMs: number,
    ): Result<number, Context>;
    releaseSlot(
      holders: string,
      wanted: string,
      token: string,
      channel: string,
      service: string,
    ): Result<number, Context>;
  }
}

/** Held: the call counts against the capacity. Unguarded: the knob store is down, so there is no shared
 * count to wait in; the call goes ahead rather than stop every checkout. */
type Admission = "held" | "unguarded";

/** One call's claim on a slot: its token, and how long the call should hold it. */
interface Claim {
  token: string;
  holdMs: number;
}

interface Waiter extends Claim {
  admit: (admission: Admission) => void;
  timer: NodeJS.Timeout;
}

// Callers of this process waiting for each service, first come first served. Only the first in line
// asks Redis for a slot, when a release wakes it (or every SLOT_RECHECK_MS), so a hundred waiting
// callers cost Redis what one does.
const lines = new Map<ServiceName, Waiter[]>();
const pumping = new Set<ServiceName>();
const wakeups = new Map<ServiceName, Set<() => void>>();
let listening: RedisClient | null = null;

// ACQUIRE_SLOT and RELEASE_SLOT touch both keys of a service at once: on a Redis Cluster they must live
// in one hash slot, so both carry the service's hash tag (`{capacity:payment}`), one slot per service.
export function capacityKey(service: ServiceName): string {
  return redisKey(`{capacity:${service}}`);
}

function wantedKey(service: ServiceName): string {
  return redisKey(`{capacity:${service}}`, "wanted");
}

function releaseChannel(): string {
  return redisKey("capacity-released");
}

async function takeSlot(service: ServiceName, capacity: number, { token, holdMs }: Claim): Promise<boolean> {
  const now = Date.now();
  // While Redis is away this throws at once, and the call goes ahead unguarded (see Admission).
  const granted = await failFast().acquireSlot(
    capacityKey(service),
    wantedKey(service),
    now,
    capacity,
    now + holdMs + SLOT_GRACE_MS,
    token,
    WANTED_TTL_MS,
  );
  return granted === 1;
}

async function releaseSlot(service: ServiceName, token: string): Promise<void> {
  // A slot Redis lost with everything else needs no giving back.
  if (unavailable(redis("command"))) return;
  await redis("command")
    .releaseSlot(capacityKey(service), wantedKey(service), token, releaseChannel(), service)
    .catch(() => {});
}

/** Subscribes this process to releases, once per connection (a closed one is replaced on next use). */
function listenForReleases(): void {
  const subscriber = redis("sub");
  if (listening === subscriber) return;
  listening = subscriber;
  subscriber.on("message", (_channel: string, service: string) => {
    for (const wake of [...(wakeups.get(service as ServiceName) ?? [])]) wake();
  });
  subscriber.subscribe(releaseChannel()).catch(() => {
    if (listening === subscriber) listening = null;
  });
}

/** Resolves when a slot of `service` is released anywhere, or after `ms` (the recheck). */
function nextRelease(service: ServiceName, ms: number): Promise<void> {
  const waiting = wakeups.get(service) ?? new Set();
  wakeups.set(service, waiting);
  return new Promise((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      waiting.delete(wake);
      resolve();
    };
    const timer = setTimeout(() => void faultPoint("capacity:recheck", { service }).then(wake, wake), ms);
    waiting.add(wake);
  });
}

/** Serves the line of `service` until it is empty: one Redis attempt per wake, for its first waiter. */
async function pump(service: ServiceName): Promise<void> {
  if (pumping.has(service)) return;
  pumping.add(service);
  listenForReleases();
  const line = lines.get(service) ?? [];
  try {
    for (let first = line[0]; first; first = line[0]) {
      let admission: Admission | null;
      try {
        const { capacity } = (await getSettings()).services[service];
        admission = (await takeSlot(service, capacity, first)) ? "held" : null;
      } catch {
        admission = "unguarded";
      }
      if (!admission) {
        await nextRelease(service, SLOT_RECHECK_MS);
        continue;
      }
      const place = line.indexOf(first);
      if (place === -1) {
        // It gave up waiting while we asked: the slot is nobody's.
        if (admission === "held") await releaseSlot(service, first.token);
        continue;
      }
      line.splice(place, 1);
      clearTimeout(first.timer);
      first.admit(admission);
    }
  } finally {
    pumping.delete(service);
  }
}
async function admit(
  service: ServiceName,
  capacity: number,
  claim: Claim,
  deadline: AbortSignal | undefined,
): Promise<Admission> {
  const line = lines.get(service) ?? [];
  lines.set(service, line);
  if (line.length === 0) {
    try {
      if (await takeSlot(service, capacity, claim)) return "held";
    } catch {
      return "unguarded";
    }
  }
  // A queue job that waits here is "waiting for the provider", not running (the queue panel splits them).
  const endWait = waitingForProvider();
  return new Promise<Admission>((resolve, reject) => {
    const giveUp = (error: DownstreamError) => {
      clearTimeout(timer);
      deadline?.removeEventListener("abort", onDeadline);
      endWait();
      // Out of line; a slot the pump takes for it meanwhile goes back (see pump).
      const place = line.indexOf(waiter);
      if (place !== -1) line.splice(place, 1);
      reject(error);
    };
    const onDeadline = () => giveUp(deadlinePassed(service));
    const timer = setTimeout(
      () =>
        giveUp(
          new DownstreamError(
            service,
            "error",
            `${SERVICES[service].title} is busy: no free slot within ${SLOT_WAIT_MS / 1000} s`,
          ),
        ),
      SLOT_WAIT_MS,
    );
    const waiter: Waiter = {
      ...claim,
      admit: (admission) => {
        deadline?.removeEventListener("abort", onDeadline);
        endWait();
        resolve(admission);
      },
      timer,
    };
    line.push(waiter);
    deadline?.addEventListener("abort", onDeadline, { once: true });
    void pump(service);
  });
}

/** Holds a slot of `service` for a call that should take `holdMs`; the deadline cuts the wait and
 * the call short. */
export async function withCapacity(
  service: ServiceName,
  capacity: number,
  holdMs: number,
  deadline: AbortSignal | undefined,
): Promise<void> {
  const token = randomUUID();
  const admission = await admit(service, capacity, { token, holdMs }, deadline);
  try {
    await sleep(holdMs, undefined, { signal: deadline }).catch((error: unknown) => {
      throw deadline?.aborted ? deadlinePassed(service) : error;
    });
  } finally {
    // Not awaited: the caller's answer does not wait for the slot to go back. This process's next
    // Redis command is sent after it on the same connection, so it never finds its own slot taken.
    if (admission === "held") void releaseSlot(service, token);
  }
}
