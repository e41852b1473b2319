// Keeps an order's cached view in step with the server: watches it over socket.io, applies pushes only
// when newer, and on every (re)connect watches again and applies the snapshot the ack carries, so a
// reload or a dropped connection always ends up showing the true state. A push lost on the server's
// side, where the page's connection stayed up (Redis restarting under the web processes' pub/sub), is
// healed too: while the order is still moving, the page asks for its snapshot again every RESYNC_MS.
"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { OrderView } from "@/server/contract";
import { connectOrderSocket, newerOrder, watchOrder } from "./realtime";
import { useTRPC } from "./trpc";

export type LiveState = "connecting" | "live" | "reconnecting" | "unavailable";

/** How often a page asks again for an order that has not settled: the longest a lost push shows. */
const RESYNC_MS = 10_000;

export function useLiveOrder(orderId: string, enabled: boolean): LiveState {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [state, setState] = useState<LiveState>("connecting");

  useEffect(() => {
    if (!enabled) return;
    const queryKey = trpc.order.byId.queryKey({ orderId });
    const apply = (incoming: unknown) =>
      queryClient.setQueryData(
        queryKey,
        (current: OrderView | undefined) => newerOrder(incoming, current) ?? current,
      );

    const socket = connectOrderSocket();
    socket.on("order:updated", apply);
    socket.on("connect", () => {
      watchOrder(socket, { orderId }).then((ack) => {
        if (!ack.ok) return setState("unavailable");
        apply(ack.order);
        setState("live");
      });
    });
    socket.on("disconnect", () => setState("reconnecting"));
    const resync = setInterval(() => {
      const current = queryClient.getQueryData<OrderView>(queryKey);
      if (!socket.connected || current?.settledAt) return;
      watchOrder(socket, { orderId }).then((ack) => {
        if (ack.ok) apply(ack.order);
      });
    }, RESYNC_MS);
    return () => {
      clearInterval(resync);
      socket.disconnect();
    };
  }, [enabled, orderId, queryClient, trpc]);

  return state;
}
