// Checkouts abandoned mid-way: a web process that died between reserving the stock and confirming
// the order leaves it `pending`; one that died while a synchronous checkout ran its side effects
// leaves it `placed` but never answered. Either holds stock and an authorization. The worker process
// sweeps such orders after a grace period and compensates them (stock back, authorization voided).

import { runCompensationsInline } from "../checkout/inline";
import { config } from "../config";
import { QUEUED_MODES } from "../contract";
import { prisma } from "../db";
import { log } from "../log";
import { compensate, leaveUndoOwed } from "./compensate";

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
    select: { id: true },
    take: 100,
  });
  let swept = 0;
  for (const order of abandoned) {
    const compensated = await compensate(order.id, {
      status: "failed",
      reason: "The checkout was interrupted before it finished. Nothing was charged.",
    }).catch((error: unknown) => {
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
  return swept;
}
