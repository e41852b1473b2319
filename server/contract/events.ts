// The realtime contract, typed for socket.io's Server, Socket and Emitter, validated where it arrives.
// Client asks: `order:watch` (by order id, or by idempotency key while a checkout is still running).
// Server tells: `order:updated` with the full order view and its version.
import { z } from "zod";
import { type OrderView, orderIdInput, placeOrderInput } from "./orders";

export const watchOrderInput = z.union([
  orderIdInput.strict(),
  z.object({ idempotencyKey: placeOrderInput.shape.idempotencyKey }).strict(),
]);
export type WatchOrderInput = z.infer<typeof watchOrderInput>;

export type WatchAck = { ok: true; order: OrderView | null } | { ok: false; error: string };

export interface ServerToClientEvents {
  "order:updated": (order: OrderView) => void;
}

export interface ClientToServerEvents {
  "order:watch": (input: unknown, ack: (answer: WatchAck) => void) => void;
}

/** A client applies an update only when it is newer than what it shows. */
export function isNewer(incoming: OrderView, current: OrderView | null | undefined): boolean {
  return !current || current.id !== incoming.id || incoming.version > current.version;
}
