// Undoing a placed order's critical path: put the stock back, void (or refund) the payment, cancel a
// booked shipment, and skip the side effects that have not started.
// First the order is claimed, in one statement that gives the stock back (exactly once however many
// times this runs) and records what the providers owe: the payment (and a booked shipment) become
// `compensating`, an undo owed. Then the providers are asked, with idempotency keys, and only their
// answer marks the steps compensated ("Authorization voided"). An undo that fails stays owed, on the
// order, for whoever comes next: the job's retry (a repeated compensation finishes it), or the
// reconciler in every worker (finishOwedUndos). The idempotency keys keep it once at the provider.
// The claim holds while the order is still what it was read as: a pending one still pending (the
// checkout confirming it meanwhile wins), a live one still live, placed or needing attention by now.
import type { OrderStatus, OrderView, StepName, StepStatus, Undo } from "../contract";
import { LIVE_ORDER_STATUSES, STEP_NAMES, UNDO_OWED, UNDONE_ORDER_STATUSES, UNDOS } from "../contract";
import { Prisma, sql } from "../db";
import { DownstreamError } from "../downstream/error";
import { callDownstream, type DownstreamCallSpec } from "../downstream/simulate";
import { log, messageOf } from "../log";
import { changeOrder, type OrderChange, owedStep, type StepChange } from "./change";
import { findOrderView } from "./view";

/** Steps that have not started: they will not, now. A running one finishes and records itself. */
const NOT_STARTED: readonly StepStatus[] = ["pending", "retrying"];

export interface Outcome {
  status: "cancelled" | "failed";
  reason: string;
}

/** The order is undone, and a provider did not answer its undo: the undo stays owed on the order. */
export class UndoOwedError extends Error {
  constructor(
    readonly orderId: string,
    readonly cause: unknown,
  ) {
    super(`the undo of order ${orderId} failed and is still owed: ${messageOf(cause)}`);
    this.name = "UndoOwedError";
  }
}

/** For callers that cannot retry (a checkout answering, the sweeper, a discard): an owed undo is left
 * to the reconciler, which finishes it; any other error is thrown on. */
export function leaveUndoOwed(error: unknown): void {
  if (!(error instanceof UndoOwedError)) throw error;
  log.warn({ orderId: error.orderId }, `${error.message}; the reconciler will finish it`);
}

/** Returns false when the order had already been compensated (or had moved on). `also` are step
 * changes recorded in the same statement (the step whose failure or verdict caused this). `from`: the
 * statuses the caller may undo the order from (a broken-off checkout of a queued mode owns its order
 * only while it is pending: once confirmed, the order stands and its side effects run). Throws
 * UndoOwedError when a provider did not undo its part: a repeat finishes it. */
export async function compensate(
  orderId: string,
  outcome: Outcome,
  also: Partial<Record<StepName, StepChange>> = {},
  from: readonly OrderStatus[] = UNDOABLE_FROM,
): Promise<boolean> {
  const order = await findOrderView({ id: orderId });
  if (!order) throw new Error(`order ${orderId} does not exist`);
  if (UNDONE_ORDER_STATUSES.includes(order.status)) {
    // Undone already (a retried job, a second compensation): finish what the providers still owe.
    await finishUndos(order);
    return false;
  }
  if (!from.includes(order.status)) return false;
  const now = new Date();
  const skipped: Partial<Record<StepName, StepChange>> = Object.fromEntries(
    STEP_NAMES.map((name) => [name, { status: "skipped", finishedAt: now, onlyFrom: NOT_STARTED }]),
  );
  const reserved = (also.inventory?.status ?? stepOf(order, "inventory")?.status) === "succeeded";
  if (reserved) skipped.inventory = { status: "compensated", detail: "Stock released" };
  // What the providers are owed is decided inside the claim, from the locked row and their ledgers.
  const claimed = await changeOrder(orderId, {
    when: {
      status: order.status === "pending" ? ["pending"] : from.filter((status) => status !== "pending"),
    },
    status: outcome.status,
    failureReason: outcome.reason,
    settledAt: now,
    steps: { ...skipped, ...also },
    restock: reserved,
    undo: true,
  });
  // Confirmed or completed meanwhile, or claimed by another compensation, which asks the providers.
  if (!claimed) return false;
  // A fraud verdict is business as usual; a failure is worth a look.
  log[outcome.status === "cancelled" ? "info" : "warn"](
    { orderId, status: outcome.status, reason: outcome.reason, restocked: reserved },
    `order ${outcome.status}: compensated`,
  );
  await finishUndos(claimed);
  return true;
}

/** An order may be undone while it is pending or live; a caller may own fewer of these. */
const UNDOABLE_FROM: readonly OrderStatus[] = ["pending", ...LIVE_ORDER_STATUSES];

function stepOf(order: OrderView, name: StepName) {
  return order.steps.find((step) => step.name === name);
}

/** The provider call of an undo; keyed by the order id, as the call it undoes is. */
function undoCall(undo: Undo, order: OrderView): DownstreamCallSpec<Prisma.InputJsonObject> {
  const { service, operation } = UNDOS[undo];
  const perform = () =>
    undo === "cancelShipment" ? { orderId: order.id } : { orderId: order.id, amountCents: order.totalCents };
  return { service, operation, perform, idempotencyKey: order.id };
}

/** The undos the order's steps say are owed: the shipment first, then the payment. */
function owedUndos(order: OrderView): Undo[] {
  const owedOn = (undo: Undo) => {
    const step = stepOf(order, UNDOS[undo].step);
    return step?.status === UNDO_OWED && step.detail === UNDOS[undo].owed;
  };
  return (["cancelShipment", "refund", "void"] as const).filter(owedOn);
}

/** The payment's undo its gateway state calls for: a payment captured (or refunded) is refunded, any
 * other (authorized, voided, or never authorized: a void then refuses a late authorization) voided. */
function paymentUndoFor(state: string | null): Undo {
  return state === "captured" || state === "refunded" ? "refund" : "void";
}

/** Asks the provider for one undo; returns the undo that was done. When the gateway refuses the
 * payment's undo, the state it refused from says which one it needed (a payment captured meanwhile is
 * refunded instead of voided), and that one is asked for: the same key gives the first answer, so an
 * undo done before is not done twice. */
async function undoAtProvider(undo: Undo, order: OrderView): Promise<Undo> {
  try {
    await callDownstream(undoCall(undo, order));
    return undo;
  } catch (error) {
    const refusedPayment =
      error instanceof DownstreamError && error.kind === "refused" && UNDOS[undo].service === "payment";
    const instead = refusedPayment ? paymentUndoFor(error.state) : undo;
    if (instead === undo) throw error;
    await callDownstream(undoCall(instead, order));
    return instead;
  }
}

/** Asks the providers for every undo the order owes, outside any transaction (no row lock is held
 * while they answer), then records their answers in one statement. Throws UndoOwedError when one
 * did not answer. */
export async function finishUndos(order: OrderView): Promise<void> {
  const undos = owedUndos(order);
  const [first] = undos;
  if (!first) return;
  const guard: OrderChange["when"] = {
    status: UNDONE_ORDER_STATUSES,
    step: UNDOS[first].step,
    stepStatus: [UNDO_OWED],
  };
  const done: StepChange[] = [];
  try {
    for (const undo of undos) {
      const did = await undoAtProvider(undo, order);
      done.push({ status: "compensated", detail: UNDOS[did].done, error: null });
    }
  } catch (error) {
    // Shown on the steps while owed; the failure itself is what the caller hears.
    await changeOrder(order.id, {
      when: guard,
      steps: Object.fromEntries(
        undos.map((undo) => [UNDOS[undo].step, { ...owedStep(undo), error: messageOf(error) }]),
      ),
    }).catch(() => null);
    throw new UndoOwedError(order.id, error);
  }
  await changeOrder(order.id, {
    when: guard,
    steps: Object.fromEntries(undos.map((undo, index) => [UNDOS[undo].step, done[index]])),
    // Settles the undone order, unless a compensation of its own is still to run.
    settle: true,
  });
}

/** Oldest first, a batch per sweep. */
const OWED_LIMIT = 100;

export interface OwedUndos {
  finished: number;
  stillOwed: number;
}

/** Finishes the undos undone orders still owe (a provider that failed them, a process that died
 * between the claim and the providers' answers). Run by the reconciler in every worker. */
export async function finishOwedUndos(): Promise<OwedUndos> {
  const owing = await sql<{ id: string }>(Prisma.sql`
    SELECT o."id" FROM "Order" o
    WHERE o."status" = ANY(${[...UNDONE_ORDER_STATUSES]}::text[]) AND o."settledAt" IS NULL
      AND EXISTS (SELECT 1 FROM jsonb_each(o."steps") s WHERE s.value ->> 'status' = ${UNDO_OWED})
    ORDER BY o."createdAt" LIMIT ${OWED_LIMIT}`);
  const result: OwedUndos = { finished: 0, stillOwed: 0 };
  for (const { id } of owing) {
    try {
      const order = await findOrderView({ id });
      if (order) await finishUndos(order);
      result.finished++;
      log.info({ orderId: id, component: "reconciler" }, "finished the undo the order owed at its providers");
    } catch (error) {
      // Tried again next sweep; one order's trouble holds up neither the others nor the re-drives.
      if (!(error instanceof UndoOwedError)) {
        log.warn({ orderId: id, component: "reconciler", error: messageOf(error) }, "the owed undo failed");
      }
      result.stillOwed++;
    }
  }
  return result;
}
