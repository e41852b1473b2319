// Checkouts abandoned mid-way: a web process that died between reserving the stock and confirming
// the order leaves it `pending`; one that died while a synchronous checkout ran its side effects
// leaves it `placed` but never answered. Either holds stock and an authorization. The worker process
// sweeps such orders after a grace period and compensates them (stock back, authorization voided).
// A side effect the dead checkout was running is recorded as what its provider says happened: done
// (a receipt that went out is then corrected, like any other) or skipped.

import { config } from "../config";
import {
  COMPENSATION_STEPS,
  type OrderView,
  QUEUED_MODES,
  SIDE_EFFECT_STEPS,
  type StepName,
  UNDONE_ORDER_STATUSES,
} from "../contract";
import { prisma } from "../db";
import { providerRecordedAt } from "../downstream/simulate";
import { log } from "../log";
import { changeOrder, type StepChange } from "../orders/change";
import { compensate, leaveUndoOwed } from "../orders/compensate";
import { runCompensationsInline } from "../orders/inline";
import { orderViewSelect, toOrderView } from "../orders/view";
import { EFFECT_CALLS } from "../steps";

/** SWEEPER_GRACE_MS, 10 minutes by default: longer than any live checkout takes, by construction. A
 * checkout is cut off at CHECKOUT_DEADLINE_MS and fails its order within CHECKOUT_WIND_DOWN_MS, and
 * the configuration refuses a grace that is not longer than both (see server/config.ts). A checkout
 * that still answers after being swept is refused by its own guarded confirmation (see
 * server/checkout/place.ts). */
export const ABANDONED_AFTER_MS = config.SWEEPER_GRACE_MS;

/** How often the worker sweeps: twice a minute, or as often as the grace itself when that is shorter. */
export const SWEEP_EVERY_MS = Math.min(30_000, ABANDONED_AFTER_MS);

export async function sweepAbandonedCheckouts(olderThanMs = ABANDONED_AFTER_MS): Promise<number> {
  const abandoned = await prisma.order.findMany({
    where: {
      createdAt: { lt: new Date(Date.now() - olderThanMs) },
      OR: [
        { status: "pending" },
        { status: "placed", mode: { notIn: [...QUEUED_MODES] }, confirmedAt: null },
      ],
    },
    // Read as views: what each one's cut-off steps are comes from the same read.
    select: orderViewSelect,
    relationLoadStrategy: "join",
    take: 100,
  });
  let swept = 0;
  for (const order of abandoned.map(toOrderView)) {
    const compensated = await compensate(
      order.id,
      { status: "failed", reason: "The checkout was interrupted before it finished. Nothing was charged." },
      await cutOffSteps(order),
      // Only as found: a pending checkout that confirmed meanwhile stands (its side effects run).
      [order.status],
    ).catch((error: unknown) => {
      // Claimed (a swept order is never undone already), the void owed: the reconciler finishes it.
      leaveUndoOwed(error);
      return true;
    });
    if (compensated) {
      swept++;
      log.warn({ orderId: order.id, component: "sweeper" }, "swept an abandoned checkout");
      // No request is left to run a synchronous order's corrections: the sweeper does (a queued
      // order's went to the outbox with the compensation).
      await runCompensationsInline(order.id);
    }
  }
  await settleStranded(olderThanMs);
  return swept;
}

/** Undone orders of an inline mode left with a step `running` and never settled: the request running
 * it broke off (a Postgres crash between a step's claim and its outcome) after the order was undone, or
 * while it ran a correction. Nobody else runs an inline order's steps, so each is recorded as its
 * provider has it: done, or not run (a correction not done is due again, and run now). */
async function settleStranded(olderThanMs: number): Promise<void> {
  const stranded = await prisma.order.findMany({
    where: {
      createdAt: { lt: new Date(Date.now() - olderThanMs) },
      status: { in: [...UNDONE_ORDER_STATUSES] },
      mode: { notIn: [...QUEUED_MODES] },
      settledAt: null,
    },
    select: orderViewSelect,
    relationLoadStrategy: "join",
    take: 100,
  });
  for (const order of stranded.map(toOrderView)) {
    const steps = await cutOffSteps(order);
    for (const name of COMPENSATION_STEPS) {
      const change = steps[name];
      if (change?.status === "skipped") steps[name] = { ...change, status: "pending", finishedAt: null };
    }
    if (Object.keys(steps).length > 0) {
      await changeOrder(order.id, { steps, settle: true });
      log.warn(
        { orderId: order.id, component: "sweeper" },
        "settled an undone order whose checkout broke off",
      );
    }
    await runCompensationsInline(order.id);
  }
}

/** The side effects an abandoned checkout left `running`: nobody will finish them, so each is recorded
 * as its provider's ledger has it (only while it is still running, in the same statement as the rest). */
async function cutOffSteps(order: OrderView): Promise<Partial<Record<StepName, StepChange>>> {
  const running = (name: StepName) =>
    order.steps.some((step) => step.name === name && step.status === "running");
  const cutOff = SIDE_EFFECT_STEPS.filter(running);
  const doneAt = await providerRecordedAt(cutOff.map((name) => EFFECT_CALLS[name](order.id)));
  const now = new Date();
  // Done when the provider did it; cut off, as far as anyone can tell, now.
  const changes = cutOff.map((name, index): [StepName, StepChange] => {
    const done = doneAt[index];
    const change: StepChange = done
      ? {
          status: "succeeded",
          finishedAt: done,
          detail: "Done before the checkout was interrupted",
          endAttempt: { outcome: "succeeded", finishedAt: done, error: null },
        }
      : {
          status: "skipped",
          finishedAt: now,
          detail: null,
          endAttempt: { outcome: "failed", finishedAt: now, error: "Cut off with the checkout" },
        };
    return [name, { ...change, error: null, onlyFrom: ["running"] }];
  });
  return Object.fromEntries(changes);
}
