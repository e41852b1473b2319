// The simulated downstream services (payment gateway, email provider, ...). Each call obeys the
// shared knobs: capacity (calls at once across all processes), latency ± jitter, a failure rate and a
// hard outage switch. A call that carries an idempotency key is remembered in the provider's own
// ledger (DownstreamCall): a repeat returns the first answer and does nothing twice, as a real
// provider's idempotency keys promise. Callers waiting for capacity are woken when a slot is given
// back (Redis pub/sub), not by polling.
// The capacity slots are the project's own rather than a Redis semaphore library's (redis-semaphore's
// callers each retry every `retryInterval` until a slot is free): here one waiter per process asks, woken
// by a release; the capacity is a knob changed live, a raised one lets waiters in at once, a dead
// holder's slot expires soon after its call should have ended, and with Redis away a call goes ahead
// unguarded. How a provider's limit makes callers wait is what the shop shows, so it is spelled out.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Result } from "ioredis";
import { SERVICES, type ServiceName, type ServiceSettings } from "../contract";
import { Prisma, sqlAtProvider } from "../db";
import { faultPoint } from "../faults";
import { waitingForProvider } from "../metrics/jobs";
import { defineScript, failFast, type RedisClient, redis, redisKey, unavailable } from "../redis";
import { transitionOf } from "./machines";
import { getSettings } from "./settings";

export class DownstreamError extends Error {
  constructor(
    readonly service: ServiceName,
    /** down: the outage switch; error: a failed (for payment: declined) call; deadline: cut off by
     * the caller's deadline before the provider did anything; refused: the subject's state does not
     * allow the operation (see ./machines.ts; `state` says which state refused it). */
    readonly kind: "down" | "error" | "deadline" | "refused",
    message: string,
    readonly state: string | null = null,
  ) {
    super(message);
    this.name = "DownstreamError";
  }
}

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

function deadlinePassed(service: ServiceName): DownstreamError {
  return new DownstreamError(
    service,
    "deadline",
    `${SERVICES[service].title} did not answer before the checkout's deadline`,
  );
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
async function withCapacity(
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

function latencyOf(settings: ServiceSettings): number {
  const jitter = settings.jitterMs ? (Math.random() * 2 - 1) * settings.jitterMs : 0;
  return Math.max(0, Math.round(settings.latencyMs + jitter));
}

/** One call to a downstream service: waits its turn and its latency, then fails as the knobs say.
 * A `deadline` that passes first cuts the call off before the provider did anything (a client-side
 * timeout whose request never got through). */
export async function simulateCall(service: ServiceName, deadline?: AbortSignal): Promise<void> {
  if (deadline?.aborted) throw deadlinePassed(service);
  const settings = (await getSettings()).services[service];
  const title = SERVICES[service].title;
  if (settings.down) throw new DownstreamError(service, "down", `${title} is down`);
  // A call that takes no time holds no slot: only a call that lasts waits its turn.
  const latency = latencyOf(settings);
  if (latency > 0) await withCapacity(service, settings.capacity, latency, deadline);
  if (deadline?.aborted) throw deadlinePassed(service);
  if (Math.random() < settings.failureRate) {
    throw new DownstreamError(service, "error", `${title} returned an error`);
  }
}

/** One call at one provider, as its ledger knows it. */
export interface ProviderCall {
  service: ServiceName;
  operation: string;
  /** Same key, same answer: the provider does the work once. */
  idempotencyKey: string;
}

export interface DownstreamCallSpec<T extends Prisma.InputJsonValue> extends ProviderCall {
  /** The provider's answer the first time this key is seen. */
  perform: () => T;
  /** Cut the call off when this aborts (a synchronous checkout's deadline). */
  deadline?: AbortSignal;
}

export async function callDownstream<T extends Prisma.InputJsonValue>(
  spec: DownstreamCallSpec<T>,
): Promise<T> {
  await simulateCall(spec.service, spec.deadline);
  await faultPoint("provider:answering", { service: spec.service, operation: spec.operation });
  const candidate = JSON.stringify(spec.perform());
  const transition = transitionOf(spec.service, spec.operation);
  if (!transition) {
    // Insert, or keep the first answer: the row returned is the one the provider remembers.
    const rows = await sqlAtProvider<{ result: T }>(
      Prisma.sql`${recordCall(spec, candidate)} RETURNING "result"`,
    );
    const row = rows[0];
    if (!row) throw new Error(`${spec.service} ledger returned no row`);
    return row.result;
  }
  // The subject's state moves and the call is recorded in one statement, or neither happens. The
  // state's row lock makes two racing calls take turns: the second sees what the first did.
  const subject = Prisma.sql`${spec.service}, ${spec.idempotencyKey}`;
  const fromNowhere = transition.from.includes(null);
  const from = transition.from.filter((state) => state !== null);
  const moved = fromNowhere
    ? Prisma.sql`INSERT INTO "ProviderState" ("service", "subject", "state") VALUES (${subject}, ${transition.to})
        ON CONFLICT ("service", "subject") DO UPDATE SET "state" = EXCLUDED."state"
        WHERE "ProviderState"."state" = ANY(${from}::text[])
        RETURNING 1`
    : Prisma.sql`UPDATE "ProviderState" SET "state" = ${transition.to}
        WHERE ("service", "subject") = (${subject}) AND "state" = ANY(${from}::text[])
        RETURNING 1`;
  const [row] = await sqlAtProvider<{ result: T | null; state: string | null }>(Prisma.sql`
    WITH moved AS (${moved}),
    recorded AS (${recordCall(spec, candidate, Prisma.sql`WHERE EXISTS (SELECT 1 FROM moved)`)} RETURNING "result")
    SELECT (SELECT "result" FROM recorded) AS "result",
      (SELECT "state" FROM "ProviderState" WHERE ("service", "subject") = (${subject})) AS "state"`);
  if (row?.result) return row.result;
  // Refused, or the same call made before (or by a racing repeat that went first): same key, same answer.
  const [earlier] = await sqlAtProvider<{ result: T }>(Prisma.sql`
    SELECT "result" FROM "DownstreamCall"
    WHERE "service" = ${spec.service} AND "operation" = ${spec.operation} AND "idempotencyKey" = ${spec.idempotencyKey}`);
  if (earlier) return earlier.result;
  const state = row?.state ?? null;
  throw new DownstreamError(
    spec.service,
    "refused",
    `${SERVICES[spec.service].title} refused to ${spec.operation}: ${state ? `the ${SUBJECTS[spec.service]} was ${state}` : `it knows no such ${SUBJECTS[spec.service]}`}`,
    state,
  );
}

/** What each provider with a state machine calls the subject of its calls. */
const SUBJECTS: Partial<Record<ServiceName, string>> = { payment: "payment", shipping: "shipment" };

/** The ledger's INSERT of one call (keeping the first answer for a repeated key), `where` a condition on
 * a SELECT of its values. createdAt is the clock when the row is written, after any lock was taken, so
 * the ledger's order is the order the provider did things in. */
function recordCall(spec: ProviderCall, candidate: string, where: Prisma.Sql = Prisma.empty): Prisma.Sql {
  return Prisma.sql`INSERT INTO "DownstreamCall" ("id", "service", "operation", "idempotencyKey", "result", "createdAt")
    SELECT ${randomUUID()}, ${spec.service}, ${spec.operation}, ${spec.idempotencyKey}, ${candidate}::jsonb,
      clock_timestamp() AT TIME ZONE 'UTC' ${where}
    ON CONFLICT ("service", "operation", "idempotencyKey")
    DO UPDATE SET "service" = EXCLUDED."service"`;
}

/** When the providers did each of these calls, if they did (a gateway's "look up by idempotency key"),
 * without doing them: one look-up for all. */
export async function providerRecordedAt(calls: readonly ProviderCall[]): Promise<(Date | null)[]> {
  if (calls.length === 0) return [];
  const keys = calls.map((call) => Prisma.sql`(${call.service}, ${call.operation}, ${call.idempotencyKey})`);
  const rows = await sqlAtProvider<ProviderCall & { createdAt: Date }>(Prisma.sql`
    SELECT "service", "operation", "idempotencyKey", "createdAt" FROM "DownstreamCall"
    WHERE ("service", "operation", "idempotencyKey") IN (${Prisma.join(keys)})`);
  return calls.map(
    (call) =>
      rows.find(
        (row) =>
          row.service === call.service &&
          row.operation === call.operation &&
          row.idempotencyKey === call.idempotencyKey,
      )?.createdAt ?? null,
  );
}
