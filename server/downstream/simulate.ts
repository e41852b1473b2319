// The simulated downstream services (payment gateway, email provider, ...). Each call obeys the
// shared knobs: capacity (calls at once across all processes: ./capacity.ts), latency ± jitter, a
// failure rate and a hard outage switch. A call that carries an idempotency key is remembered in the
// provider's own ledger (DownstreamCall): a repeat returns the first answer and does nothing twice, as a
// real provider's idempotency keys promise.
import { randomUUID } from "node:crypto";
import { SERVICES, type ServiceName, type ServiceSettings } from "../contract";
import { Prisma, sqlAtProvider } from "../db";
import { faultPoint } from "../faults";
import { withCapacity } from "./capacity";
import { DownstreamError, deadlinePassed } from "./error";
import { transitionOf } from "./machines";
import { getSettings } from "./settings";

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

/** An order's call to a provider, keyed by the order (and by `kind` where one order makes two calls of
 * one operation, as a receipt and a cancellation are two emails). */
export function orderCall(
  service: ServiceName,
  operation: string,
  orderId: string,
  kind?: string,
): ProviderCall {
  return { service, operation, idempotencyKey: kind ? `${orderId}:${kind}` : orderId };
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
