// Every change to an order is one statement: one UPDATE of the order row (its steps live in it), with
// what the change causes riding along in the same statement — the version bump, the outbox rows (whose
// jobs are added right after the commit), settling the order's status from its steps, giving the stock back. The row lock makes
// concurrent changes to one order take turns, and Postgres re-reads the row after waiting for it
// (READ COMMITTED), so guards, settling and the returned view always see the latest committed steps.
// The statement returns the order as it left it; that view is what the feed pushes.
// The same statement adds the compensating steps an undone order needs (see server/contract/steps.ts):
// whichever change comes second, the cancellation or the receipt finishing, sees both facts under the
// row lock, so a correction is added exactly when (and as soon as) it is due.
import {
  type AttemptOutcome,
  COMPENSATION_STEPS,
  CORRECTIONS,
  LIVE_ORDER_STATUSES,
  MAX_ATTEMPT_HISTORY,
  type OrderStatus,
  type OrderView,
  PROVIDER_UNDOS,
  QUEUED_MODES,
  type SideEffectStep,
  type StepName,
  type StepStatus,
  UNDO_OWED,
  UNDONE_ORDER_STATUSES,
  UNDOS,
  type Undo,
} from "../contract";
import { Prisma, sql, sqlDurably, utc } from "../db";
import { observeSettled } from "../metrics/registry";
import { handOver, type OutboxRow, outboxRows, QUEUED_ROWS } from "../outbox/write";
import { publish } from "./feed";
import { type OrderRecord, orderRecordColumns, PENDING_STEP } from "./view";

export interface StepChange {
  status: StepStatus;
  attempts?: number;
  /** Kept when the step has one already: a retried step's bar starts at its first attempt. */
  startedAt?: Date;
  finishedAt?: Date | null;
  error?: string | null;
  detail?: string | null;
  /** An attempt begins: appended to the step's history, of which the latest MAX_ATTEMPT_HISTORY stay. */
  beginAttempt?: { queuedAt: Date | null; backoffMs: number | null; startedAt: Date };
  /** The attempt under way ends: the history's last entry, if it is still open. */
  endAttempt?: { outcome: AttemptOutcome; finishedAt: Date; error: string | null };
  deadLetteredAt?: Date;
  retriedByOperatorAt?: Date;
  discardedAt?: Date;
  /** Change this step only if it is in one of these statuses now; otherwise leave it as it is. */
  onlyFrom?: readonly StepStatus[];
}

export interface OrderChange {
  steps?: Partial<Record<StepName, StepChange>>;
  /** Apply the change only while all of these hold; otherwise nothing is written (changeOrder
   * returns null): another process moved the order on meanwhile. */
  when?: {
    status?: readonly OrderStatus[];
    step?: StepName;
    stepStatus?: readonly StepStatus[];
    /** The step's latest attempt began no later than this (a retry begun since is another attempt). */
    attemptBegunBy?: Date;
  };
  status?: OrderStatus;
  failureReason?: string | null;
  confirmedAt?: Date;
  settledAt?: Date;
  /** Side effects to hand to the queues, through the outbox, when this change commits (compensations
   * the change adds are handed over by themselves). */
  outbox?: readonly SideEffectStep[];
  /** The queue job this change begins to run (a job's id is its outbox row's): its row is marked
   * dispatched, so the relay's sweep leaves it alone. Marked even if a guard fails: the job ran. */
  dispatches?: string;
  /** Re-derive a placed order's status from its steps (see settledStatus), and settle an undone one
   * whose compensations are done (see undoneSettled). */
  settle?: boolean;
  /** Put the order's items back on the shelf. */
  restock?: boolean;
  /** This change undoes the order: the undo of every provider effect that may have landed becomes
   * owed, decided here from the locked row and the providers' ledgers (see EFFECTS in
   * server/contract/steps.ts), not from anything read before. */
  undo?: boolean;
}

/** Applies the change in one statement and pushes the result; null when a `when` guard failed. */
export async function changeOrder(orderId: string, change: OrderChange): Promise<OrderView | null> {
  const settling = settlingTime(change);
  const statement = changeStatement(orderId, change, settling);
  // Jobs go where Postgres cannot take them back: a change that may queue some commits durably first,
  // in any process (see commitReplayably in server/db.ts).
  const run = statement.queues ? sqlDurably : sql;
  const [order] = await run<OrderRecord & { queued?: OutboxRow[] }>(statement.text);
  if (!order) return null;
  if (order.queued) handOver(order.queued);
  const view = publish(order);
  // settledAt is written once (see changeStatement): the row comes back with the time this change
  // offered only if this change is the one that settled the order. No other statement is needed to
  // know it, and the web process (sync) or the worker (async) that settled it observes it, once.
  if (settling && view.settledAt === settling.toISOString()) {
    observeSettled({ ...view, settledAt: view.settledAt });
  }
  return view;
}

/** The settledAt this change would write, if it may settle the order. */
function settlingTime(change: OrderChange): Date | null {
  return change.settledAt ?? (change.settle ? new Date() : null);
}

/** A finished step: nothing left to do for it. */
const FINISHED: readonly StepStatus[] = ["succeeded", "skipped"];

const CORRECTED: readonly StepName[] = CORRECTIONS.map(({ corrects }) => corrects);

/** What the statement computes from the locked row, each once (materialized, so the planner cannot
 * copy an expression into every place that uses it): the steps with the change merged in, the status
 * they lead to, and the steps with any compensation that status calls for. */
const MERGED = Prisma.sql`o."merged"`;
const NEXT_STATUS = Prisma.sql`o."nextStatus"`;

function changeStatement(
  orderId: string,
  change: OrderChange,
  settling: Date | null,
): { text: Prisma.Sql; queues: boolean } {
  const merged = mergedSteps(change.steps ?? {});
  const status = change.status
    ? Prisma.sql`${change.status}::text`
    : change.settle
      ? settledStatus(MERGED)
      : Prisma.sql`o."status"`;
  // A compensation falls due when an order is undone and a step it corrects has succeeded, so only the
  // change that brings the second of those two facts may need one: one that undoes the order, or one
  // that records such a step's success (a claim, a retry or a failure of the receipt never does).
  const mayNeedCompensation = change.status
    ? UNDONE_ORDER_STATUSES.includes(change.status)
    : Object.entries(change.steps ?? {}).some(
        ([name, step]) => step?.status === "succeeded" && CORRECTED.some((corrected) => corrected === name),
      );
  const undone = change.undo ? withUndosOwed(MERGED, orderId) : MERGED;
  const steps = mayNeedCompensation ? withCompensations(undone, NEXT_STATUS) : undone;
  // Written once, never moved: an order settles (completes, or is compensated) one time; an undone
  // one once its compensations are done.
  const settledAt = settling
    ? Prisma.sql`coalesce(o."settledAt", CASE WHEN n."nextStatus" = 'completed'
        OR (n."nextStatus" = ANY(${[...UNDONE_ORDER_STATUSES]}::text[]) AND ${undoneSettled(Prisma.sql`n."nextSteps"`)})
        THEN ${utc(settling)} END)`
    : Prisma.sql`o."settledAt"`;
  const { when = {} } = change;

  const outbox = [...(change.outbox ?? []), ...(mayNeedCompensation ? COMPENSATION_STEPS : [])];
  const effects: Prisma.Sql[] = [];
  if (outbox.length) effects.push(outboxRows(outbox));
  if (change.dispatches) {
    effects.push(Prisma.sql`dispatched AS (
      UPDATE "OutboxMessage" SET "dispatchedAt" = ${utc(new Date())}
      WHERE "id" = ${change.dispatches} AND "dispatchedAt" IS NULL
    )`);
  }
  if (change.restock) {
    effects.push(Prisma.sql`restocked AS (
      UPDATE "Product" p SET "stock" = p."stock" + i."quantity"
      FROM "OrderItem" i, changed WHERE i."orderId" = changed."id" AND p."id" = i."productId"
      RETURNING p."id"
    )`);
  }

  // The row is locked first (FOR UPDATE waits for a change in flight, then reads the row as that
  // change left it, guards included), its steps read out of storage once, and every value derived
  // from them computed once; the UPDATE then writes what was computed.
  const text = Prisma.sql`WITH locked AS MATERIALIZED (
    SELECT o."id", o."mode", o."status", (o."steps" || '{}'::jsonb) AS "steps"
    FROM "Order" o
    WHERE o."id" = ${orderId}
      ${when.status ? Prisma.sql`AND o."status" = ANY(${[...when.status]}::text[])` : Prisma.empty}
      ${when.step && when.stepStatus ? Prisma.sql`AND o."steps" -> ${when.step}::text ->> 'status' = ANY(${[...when.stepStatus]}::text[])` : Prisma.empty}
      ${when.step && when.attemptBegunBy ? Prisma.sql`AND coalesce((o."steps" -> ${when.step}::text -> 'attemptHistory' -> -1 ->> 'startedAt')::timestamptz <= ${when.attemptBegunBy.toISOString()}::timestamptz, true)` : Prisma.empty}
    FOR UPDATE
  ), merged AS MATERIALIZED (
    SELECT o.*, ${merged} AS "merged" FROM locked o
  ), decided AS MATERIALIZED (
    SELECT o.*, ${status} AS "nextStatus" FROM merged o
  ), next AS MATERIALIZED (
    SELECT o."id", o."nextStatus", ${steps} AS "nextSteps" FROM decided o
  ), changed AS (
    UPDATE "Order" o SET
      "steps" = n."nextSteps",
      "version" = o."version" + 1,
      "status" = n."nextStatus",
      "failureReason" = ${change.failureReason === undefined ? Prisma.sql`o."failureReason"` : Prisma.sql`${change.failureReason}`},
      "confirmedAt" = ${change.confirmedAt ? utc(change.confirmedAt) : Prisma.sql`o."confirmedAt"`},
      "settledAt" = ${settledAt}
    FROM next n
    WHERE o."id" = n."id"
    RETURNING o.*
  )${effects.length ? Prisma.sql`, ${Prisma.join(effects, ", ")}` : Prisma.empty}
  SELECT ${orderRecordColumns}${outbox.length ? Prisma.sql`, ${QUEUED_ROWS}` : Prisma.empty}
  FROM changed o`;
  return { text, queues: outbox.length > 0 };
}

/** The order row's steps with the change's step changes merged in (field by field). A change to a
 * step the order does not have (a compensation it never needed) changes nothing. */
function mergedSteps(changes: Partial<Record<StepName, StepChange>>): Prisma.Sql {
  const now = new Date();
  const merged = Object.entries(changes).map(([name, change]) => {
    const { onlyFrom, startedAt, beginAttempt, endAttempt, ...fields } = change;
    const current = Prisma.sql`(o."steps" -> ${name}::text)`;
    // A compensation undoes the step now, seconds after it ran: the waterfall draws it then.
    const stamped = fields.status === "compensated" ? { ...fields, compensatedAt: now } : fields;
    let next = Prisma.sql`${current} || ${JSON.stringify(stamped)}::jsonb`;
    const history = Prisma.sql`coalesce(${current} -> 'attemptHistory', '[]'::jsonb)`;
    if (beginAttempt) {
      const entry = { ...beginAttempt, finishedAt: null, outcome: null, error: null };
      const appended = Prisma.sql`(${history} || jsonb_build_array(${JSON.stringify(entry)}::jsonb))`;
      next = Prisma.sql`${next} || jsonb_build_object('attemptHistory', (
        SELECT coalesce(jsonb_agg(t.e ORDER BY t.i), '[]'::jsonb)
        FROM jsonb_array_elements(${appended}) WITH ORDINALITY AS t(e, i)
        WHERE t.i > jsonb_array_length(${appended}) - ${MAX_ATTEMPT_HISTORY}))`;
    }
    if (endAttempt) {
      next = Prisma.sql`${next} || jsonb_build_object('attemptHistory', CASE
        WHEN ${history} -> -1 ->> 'finishedAt' IS NULL AND jsonb_array_length(${history}) > 0
        THEN jsonb_set(${history}, '{-1}', (${history} -> -1) || ${JSON.stringify(endAttempt)}::jsonb)
        ELSE ${history} END)`;
    }
    if (startedAt) {
      next = Prisma.sql`${next} || jsonb_build_object('startedAt',
        coalesce(nullif(${current} -> 'startedAt', 'null'::jsonb), to_jsonb(${startedAt.toISOString()}::text)))`;
    }
    if (onlyFrom) {
      next = Prisma.sql`CASE WHEN ${current} ->> 'status' = ANY(${[...onlyFrom]}::text[]) THEN ${next} ELSE ${current} END`;
    }
    return Prisma.sql`CASE WHEN ${current} IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(${name}::text, ${next}) END`;
  });
  return merged.length ? Prisma.sql`(o."steps" || ${Prisma.join(merged, " || ")})` : Prisma.sql`o."steps"`;
}

/** A step whose effect may have landed: done, or under way (its provider may answer any moment). */
const MAY_HAVE_LANDED: readonly StepStatus[] = ["running", "succeeded"];

/** The steps with the provider undos owed that an order undone now needs, each on the step it is owed
 * on (UNDOS): owed when the step of its effect may have done it, or the provider's ledger says it did.
 * Of two undos owed on one step, the one of the later effect wins (a capture is refunded, not voided);
 * the provider's state machine settles a guess the ledger could not (see finishUndos). */
function withUndosOwed(steps: Prisma.Sql, orderId: string): Prisma.Sql {
  const owedOn = [...new Set(PROVIDER_UNDOS.map(({ undo }) => UNDOS[undo].step))];
  const owing = owedOn.map((step) => {
    const current = Prisma.sql`(${steps} -> ${step}::text)`;
    const latestFirst = PROVIDER_UNDOS.filter(({ undo }) => UNDOS[undo].step === step).reverse();
    const cases = latestFirst.map(
      ({
        undo,
        by,
        effect,
      }) => Prisma.sql`WHEN ${steps} -> ${by}::text ->> 'status' = ANY(${[...MAY_HAVE_LANDED]}::text[])
        OR EXISTS (SELECT 1 FROM "DownstreamCall" d
          WHERE (d."service", d."operation", d."idempotencyKey") = (${effect.service}, ${effect.operation}, ${orderId}))
        THEN jsonb_build_object(${step}::text, ${current} || ${JSON.stringify(owedStep(undo))}::jsonb)`,
    );
    return Prisma.sql`CASE WHEN ${current} IS NULL THEN '{}'::jsonb ${Prisma.join(cases, " ")} ELSE '{}'::jsonb END`;
  });
  return Prisma.sql`(${steps} || ${Prisma.join(owing, " || ")})`;
}

/** A step whose provider undo is owed, as the undoing statement records it. */
export function owedStep(undo: Undo): { status: StepStatus; detail: string; error: null } {
  return { status: UNDO_OWED, detail: UNDOS[undo].owed, error: null };
}

/** The steps with the compensations an undone order now needs added, pending: one for each corrected
 * step that succeeded (a receipt that went out), unless the order has it already. */
function withCompensations(steps: Prisma.Sql, status: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(${steps} || CASE WHEN ${status} = ANY(${[...UNDONE_ORDER_STATUSES]}::text[]) THEN (
      SELECT coalesce(jsonb_object_agg(c."name", ${JSON.stringify(PENDING_STEP)}::jsonb), '{}'::jsonb)
      FROM unnest(${CORRECTIONS.map(({ name }) => name)}::text[], ${[...CORRECTED]}::text[]) AS c("name", "corrects")
      WHERE ${steps} -> c."corrects" ->> 'status' = 'succeeded' AND ${steps} -> c."name" IS NULL
    ) ELSE '{}'::jsonb END)`;
}

/** An undone order is settled once no compensation is left to run, no undo is owed at a provider
 * (see server/orders/compensate.ts) and no step it might need a compensation for is still running. A
 * compensation that failed in a queued mode waits in the dead-letter set, as a live order's step does;
 * in an inline mode nobody will retry it, so it counts as finished. In an inline mode no step may be
 * left running either: only the checkout runs its steps, and one whose outcome it never recorded (a
 * Postgres crash at that instant) is the sweeper's to settle, which looks for undone orders not settled. */
function undoneSettled(steps: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`NOT EXISTS (SELECT 1 FROM jsonb_each(${steps}) s WHERE
    s.value ->> 'status' = ${UNDO_OWED}
    OR (s.key = ANY(${[...COMPENSATION_STEPS]}::text[]) AND s.value ->> 'status' <> ALL(CASE
      WHEN o."mode" = ANY(${[...QUEUED_MODES]}::text[]) THEN ${[...FINISHED]}::text[]
      ELSE ${[...FINISHED, "failed"]}::text[] END))
    OR (s.value ->> 'status' = 'running'
      AND (s.key = ANY(${[...CORRECTED]}::text[]) OR o."mode" <> ALL(${[...QUEUED_MODES]}::text[]))))`;
}

/** A placed order's status, derived from its steps: completed once every step has finished (skipped
 * only by a developer's discard); needs attention while a queued side effect sits failed in the
 * dead-letter set; placed again once it no longer does. Any other status is final or not yet
 * placed, and stays. */
function settledStatus(steps: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`CASE
    WHEN o."status" <> ALL(${[...LIVE_ORDER_STATUSES]}::text[]) THEN o."status"
    WHEN NOT EXISTS (SELECT 1 FROM jsonb_each(${steps}) s WHERE s.value ->> 'status' <> ALL(${[...FINISHED]}::text[]))
      THEN 'completed'
    WHEN o."mode" = ANY(${[...QUEUED_MODES]}::text[])
      AND EXISTS (SELECT 1 FROM jsonb_each(${steps}) s WHERE s.value ->> 'status' = 'failed')
      THEN 'needs_attention'
    ELSE 'placed'
  END`;
}
