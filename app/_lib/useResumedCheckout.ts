// A checkout page opened (or reloaded) while a checkout of this tab is unanswered: the key kept in
// sessionStorage (idempotency.ts) names the order it placed, or is placing. This finds that order and
// follows it live until it has answered: placed (the page then takes the shopper to it and empties the
// cart), refused, or still placing (its steps shown as they happen) — never a blank form that would
// buy the same cart twice.
"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { OrderView } from "@/server/contract";
import { answerOf } from "@/server/contract";
import { pendingIdempotencyKey } from "./idempotency";
import { refusedAtCheckout } from "./labels";
import { useTRPC } from "./trpc";
import { useLiveOrder } from "./useLiveOrder";

export type ResumedState = "none" | "placing" | "placed" | "refused";

export interface ResumedCheckout {
  state: ResumedState;
  order: OrderView | null;
  /** Handled for good (placed, or refused and said so): stop following it. */
  dismiss: () => void;
}

function stateOf(order: OrderView): ResumedState {
  if (refusedAtCheckout(order)) return answerOf(order) ? "refused" : "placing";
  return answerOf(order) ? "placed" : "placing";
}

/** `enabled`: no checkout of this page is under way (its own Purchase is followed by usePurchase). */
export function useResumedCheckout(enabled: boolean): ResumedCheckout {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // Read after the first render: the server's render has no sessionStorage.
  const [key, setKey] = useState<string | null>(null);
  useEffect(() => setKey(pendingIdempotencyKey()), []);

  const byKey = useQuery({
    ...trpc.order.byKey.queryOptions({ idempotencyKey: key ?? "" }),
    enabled: enabled && key !== null,
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
  const orderId = byKey.data?.id ?? null;
  useEffect(() => {
    if (byKey.data)
      queryClient.setQueryData(trpc.order.byId.queryKey({ orderId: byKey.data.id }), byKey.data);
  }, [byKey.data, queryClient, trpc]);
  // From here on the order's own view, kept current over socket.io.
  const order = useQuery({
    ...trpc.order.byId.queryOptions({ orderId: orderId ?? "" }),
    enabled: orderId !== null,
    staleTime: Number.POSITIVE_INFINITY,
  });
  useLiveOrder(orderId ?? "", orderId !== null);

  const dismiss = () => setKey(null);
  if (!key || !order.data) return { state: "none", order: null, dismiss };
  return { state: stateOf(order.data), order: order.data, dismiss };
}
