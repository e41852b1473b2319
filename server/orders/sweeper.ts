// Checkouts abandoned mid-way: a web process that died between reserving the stock and confirming
// the order leaves it `pending`, holding stock and perhaps an authorization. The worker process
// sweeps such orders after a grace period and compensates them (stock back, authorization voided).
import { prisma } from "../db";
import { compensate } from "./compensate";

/** Far longer than any live checkout's critical path takes. */
export const ABANDONED_AFTER_MS = 2 * 60_000;

export async function sweepAbandonedCheckouts(olderThanMs = ABANDONED_AFTER_MS): Promise<number> {
  const abandoned = await prisma.order.findMany({
    where: { status: "pending", createdAt: { lt: new Date(Date.now() - olderThanMs) } },
    select: { id: true },
    take: 100,
  });
  let swept = 0;
  for (const order of abandoned) {
    const compensated = await compensate(order.id, {
      status: "failed",
      reason: "The checkout was interrupted before it finished. Nothing was charged.",
    });
    if (compensated) swept++;
  }
  return swept;
}
