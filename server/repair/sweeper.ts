// Checkouts abandoned mid-way: a web process that died between reserving the stock and confirming
// the order leaves it `pending`; one that died while a synchronous checkout ran its side effects
// leaves it `placed` but never answered. Either holds stock and an authorization. The worker process
// sweeps such orders after a grace period and compensates them (stock back, authorization voided).
// A side effect the dead checkout was running is recorded as what its provider says happened: done
// (a receipt that went out is then corrected, like any other) or skipped.

import { config } from "../config";
import { COMPENSATION_STEPS, QUEUED_MODES, SIDE_EFFECT_STEPS, UNDONE_ORDER_STATUSES } from "../contract";
import { prisma } from "../db";
import { log } from "../log";
import { changeOrder } from "../orders/change";
import { compensate, leaveUndoOwed } from "../orders/compensate";
import { cutOffSteps } from "../orders/cut-off";
import { runCompensationsInline } from "../orders/inline";
import { orderViewSelect, toOrderView } from "../orders/view";

/** SWEEPER_GRACE_MS, 10 minutes by default: longer than any live checkout takes, by construction. A
 * checkout is cut off at CHECKOUT_DEADLINE_MS and fails its order within CHECKOUT_WIND_DOWN_MS, and
 * the configuration refuses a grace that is not longer than both (see server/config.ts). A checkout
 * that still answers after being swept is refused by its own guarded confirmation (see
 * server/checkout/place.ts). */
export const ABANDONED_AFTER_MS = config.SWEEPER_GRACE_MS;

/** How often the worker sweeps: twice a minute, or as often as the grace itself when that is shorter. */
export const SWEEP_EVERY_MS = Math.min(30_000, ABANDONED_AFTER_MS);

/** A step a broken-off checkout was running, as its provider has it. */
const CUT_OFF_WITH_THE_CHECKOUT = {
  done: "Done before the checkout was interrupted",
  cutOff: "Cut off with the checkout",
};

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
      await cutOffSteps(order, SIDE_EFFECT_STEPS, CUT_OFF_WITH_THE_CHECKOUT),
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
    const steps = await cutOffSteps(order, SIDE_EFFECT_STEPS, CUT_OFF_WITH_THE_CHECKOUT);
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
