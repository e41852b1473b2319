// The browser side of the realtime contract: a typed socket.io connection to the same origin, and the
// one rule for applying what it pushes (parse it, keep it only if it is newer than what we show).
"use client";

import { io, type Socket } from "socket.io-client";
import {
  type ClientToServerEvents,
  isNewer,
  type OrderView,
  orderView,
  type ServerToClientEvents,
  type WatchAck,
  type WatchOrderInput,
} from "@/server/contract";

export type OrderSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A fresh connection: the handshake carries the session cookie as it is now. */
export function connectOrderSocket(): OrderSocket {
  return io({ forceNew: true, reconnectionDelayMax: 4000 });
}

/** Asks to be told about an order; resolves with the server's answer, or a failure after a timeout. */
export function watchOrder(socket: OrderSocket, input: WatchOrderInput, timeoutMs = 3000): Promise<WatchAck> {
  return new Promise((resolve) => {
    socket.timeout(timeoutMs).emit("order:watch", input, (error: Error | null, answer: WatchAck) => {
      resolve(error ? { ok: false, error: "The live connection did not answer in time." } : answer);
    });
  });
}

/** The order to show after `incoming` arrives: validated, and only ever moving forward. */
export function newerOrder(
  incoming: unknown,
  current: OrderView | null | undefined,
): OrderView | null | undefined {
  const parsed = orderView.safeParse(incoming);
  if (!parsed.success) return current;
  return isNewer(parsed.data, current) ? parsed.data : current;
}
