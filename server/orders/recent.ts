// A session's recent orders as full views, newest first: what /orders compares (both clocks, each
// step's time in the dead-letter set, the conditions each order ran under).

import type { OrderView } from "../contract";
import { prisma } from "../db";
import { orderViewSelect, toOrderView } from "./view";

/** Enough for a comparison by conditions and mode; older orders are not compared. */
export const COMPARED_ORDERS = 50;

export async function recentOrderViews(sessionId: string | null): Promise<OrderView[]> {
  if (!sessionId) return [];
  const orders = await prisma.order.findMany({
    where: { sessionId },
    orderBy: { createdAt: "desc" },
    take: COMPARED_ORDERS,
    select: orderViewSelect,
    relationLoadStrategy: "join",
  });
  return orders.map(toOrderView);
}
