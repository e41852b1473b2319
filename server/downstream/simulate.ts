// The simulated downstream services (payment gateway, email provider, ...). Each call obeys the
// shared knobs: capacity (calls at once across all processes), latency ± jitter, a failure rate and a
// hard outage switch. A call that carries an idempotency key is remembered in the provider's own
// ledger (DownstreamCall): a repeat returns the first answer and does nothing twice, as a real
// provider's idempotency keys promise.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { ServiceName, ServiceSettings } from "../contract";
import { Prisma, sql } from "../db";
import { redis, redisKey } from "../redis";
import { getSettings } from "./settings";

export class DownstreamError extends Error {
  constructor(
    readonly service: ServiceName,
    /** down: the outage switch; error: a failed (for payment: declined) call. */
    readonly kind: "down" | "error",
    message: string,
  ) {
    super(message);
    this.name = "DownstreamError";
  }
}

const SERVICE_TITLES: Record<ServiceName, string> = {
  inventory: "Inventory service",
  payment: "Payment gateway",
  fraud: "Fraud screening service",
  email: "Email provider",
  analytics: "Analytics service",
  shipping: "Shipping carrier",
};

/** A capacity slot is given back when the call ends, or expires if its holder died mid-call
 * (a call takes at most 2 × MAX_LATENCY_MS). */
const SLOT_TTL_MS = 60_000;
/** How long a caller waits for a free slot before the call fails as "busy". */
const SLOT_WAIT_MS = 30_000;
const SLOT_POLL_MS = 15;

// Atomically: forget expired holders; take a slot if fewer than `capacity` are held.
const ACQUIRE_SLOT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
  return 1
end
return 0`;

async function withCapacity<T>(service: ServiceName, capacity: number, work: () => Promise<T>): Promise<T> {
  const key = redisKey("capacity", service);
  const token = randomUUID();
  const deadline = Date.now() + SLOT_WAIT_MS;
  let held = false;
  let knobStoreDown = false;
  try {
    while (!held && Date.now() <= deadline) {
      const now = Date.now();
      const granted = await redis("command").eval(
        ACQUIRE_SLOT,
        1,
        key,
        now,
        capacity,
        now + SLOT_TTL_MS,
        token,
      );
      held = granted === 1;
      if (!held) await sleep(SLOT_POLL_MS);
    }
  } catch {
    // The knob store is down: without a shared counter we cannot queue callers, so let them through.
    knobStoreDown = true;
  }
  if (!held && !knobStoreDown) {
    throw new DownstreamError(
      service,
      "error",
      `${SERVICE_TITLES[service]} is busy: no free slot within ${SLOT_WAIT_MS / 1000} s`,
    );
  }
  try {
    return await work();
  } finally {
    if (held)
      await redis("command")
        .zrem(key, token)
        .catch(() => {});
  }
}

function latencyOf(settings: ServiceSettings): number {
  const jitter = settings.jitterMs ? (Math.random() * 2 - 1) * settings.jitterMs : 0;
  return Math.max(0, Math.round(settings.latencyMs + jitter));
}

/** One call to a downstream service: waits its turn and its latency, then fails as the knobs say. */
export async function simulateCall(service: ServiceName): Promise<void> {
  const settings = (await getSettings()).services[service];
  const title = SERVICE_TITLES[service];
  if (settings.down) throw new DownstreamError(service, "down", `${title} is down`);
  await withCapacity(service, settings.capacity, async () => {
    const latency = latencyOf(settings);
    if (latency > 0) await sleep(latency);
  });
  if (Math.random() < settings.failureRate) {
    throw new DownstreamError(service, "error", `${title} returned an error`);
  }
}

export interface DownstreamCallSpec<T extends Prisma.InputJsonValue> {
  service: ServiceName;
  operation: string;
  /** Same key, same answer: the provider does the work once. */
  idempotencyKey: string;
  /** The provider's answer the first time this key is seen. */
  perform: () => T;
}

export async function callDownstream<T extends Prisma.InputJsonValue>(
  spec: DownstreamCallSpec<T>,
): Promise<T> {
  await simulateCall(spec.service);
  const candidate = JSON.stringify(spec.perform());
  // Insert, or keep the first answer: the row returned is the one the provider remembers.
  const rows = await sql<{ result: T }>(Prisma.sql`
    INSERT INTO "DownstreamCall" ("id", "service", "operation", "idempotencyKey", "result")
    VALUES (${randomUUID()}, ${spec.service}, ${spec.operation}, ${spec.idempotencyKey}, ${candidate}::jsonb)
    ON CONFLICT ("service", "operation", "idempotencyKey")
    DO UPDATE SET "service" = EXCLUDED."service"
    RETURNING "result"`);
  const row = rows[0];
  if (!row) throw new Error(`${spec.service} ledger returned no row`);
  return row.result;
}

export function serviceTitle(service: ServiceName): string {
  return SERVICE_TITLES[service];
}
