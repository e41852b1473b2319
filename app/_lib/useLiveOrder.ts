// Keeps an order's cached view in step with the server: watches it over socket.io, applies pushes only
// when newer, and on every (re)connect watches again and applies the snapshot the ack carries, so a
// reload or a dropped connection always ends up showing the true state.
"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { OrderView } from "@/server/contract";
import { connectOrderSocket, newerOrder, watchOrder } from "./realtime";
import { useTRPC } from "./trpc";

export type LiveState = "connecting" | "live" | "reconnecting" | "unavailable";

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
    return () => {
      socket.disconnect();
    };
  }, [enabled, orderId, queryClient, trpc]);

  return state;
}
