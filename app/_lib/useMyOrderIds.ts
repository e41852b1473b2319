// The ids of this browser session's recent orders (order.mine's newest page): the only orders whose
// pages open here.
// Developer pages that list every session's orders (mailbox, dead letters) link just these.
"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "./trpc";

const REFRESH_MS = 5000;

export function useMyOrderIds(): ReadonlySet<string> {
  const trpc = useTRPC();
  const mine = useQuery({
    ...trpc.order.mine.queryOptions({}),
    refetchInterval: REFRESH_MS,
    select: (page) => new Set(page.orders.map((order) => order.id)),
  });
  return mine.data ?? EMPTY;
}

const EMPTY: ReadonlySet<string> = new Set();
