// The realtime contract, typed for socket.io's Server, Socket and Emitter, validated where it arrives.
// Client asks: `order:watch` (by order id, or by idempotency key while a checkout is still running).
// Server tells: `order:updated` with the full order view and its version.
import { z } from "zod";
import type { AppErrorCode } from "./errors";
import { type OrderView, orderIdInput, placeOrderInput } from "./orders";
import { wellFormed } from "./text";

export const watchOrderInput = wellFormed(
  z.union(
    [orderIdInput.strict(), z.object({ idempotencyKey: placeOrderInput.shape.idempotencyKey }).strict()],
    { error: "send { orderId } or { idempotencyKey } and nothing else" },
  ),
);
export type WatchOrderInput = z.infer<typeof watchOrderInput>;

/** The answer to `order:watch`: the order as it is now, or why not, in the same words and codes as the
 * API's errors (`fieldErrors` when the input was invalid). */
export type WatchAck =
  | { ok: true; order: OrderView }
  | {
      ok: false;
      code: AppErrorCode;
      error: string;
      fieldErrors?: Record<string, string[] | undefined>;
    };

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
