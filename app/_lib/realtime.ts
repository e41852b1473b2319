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

/** A fresh connection: the handshake carries the session cookie as it is now. WebSocket only, no
 * HTTP long-polling: one socket is then one connection to one web process, so any number of web
 * processes behind a load balancer need no sticky sessions (see tools/cluster/nginx.ts). */
export function connectOrderSocket(): OrderSocket {
  return io({ forceNew: true, reconnectionDelayMax: 4000, transports: ["websocket"] });
}

/** The server's answer, or `code: null` when it gave none in time. */
export type WatchResult = WatchAck | { ok: false; code: null; error: string };

/** Asks to be told about an order; resolves with the server's answer, or a failure after a timeout. */
export function watchOrder(
  socket: OrderSocket,
  input: WatchOrderInput,
  timeoutMs = 3000,
): Promise<WatchResult> {
  return new Promise((resolve) => {
    socket.timeout(timeoutMs).emit("order:watch", input, (error: Error | null, answer: WatchAck) => {
      resolve(
        error ? { ok: false, code: null, error: "The live connection did not answer in time." } : answer,
      );
    });
  });
}

/** Pauses before each try to watch a checkout: its order exists a moment after the request arrives. */
const CHECKOUT_WATCH_DELAYS_MS = [20, 40, 80, 160, 320, 640, 1000, 1000, 1000];

/**
 * Watches a checkout by its idempotency key. The server lets a connection watch only a checkout that
 * has started, so this asks again, a little later each time, while the order is not found yet; it
 * stops once the server has answered anything else, or the checkout request itself has (null then).
 */
export async function watchCheckout(
  socket: OrderSocket,
  idempotencyKey: string,
  checkout: Promise<unknown>,
): Promise<WatchResult | null> {
  let answered = false;
  const stop = () => {
    answered = true;
  };
  checkout.then(stop, stop);
  for (const delay of CHECKOUT_WATCH_DELAYS_MS) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    if (answered) return null;
    const result = await watchOrder(socket, { idempotencyKey });
    if (result.ok || result.code !== "NOT_FOUND") return result;
  }
  return null;
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
