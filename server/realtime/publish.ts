// Pushes an order's current view to everyone watching it, from any process (web or worker), through
// socket.io's Redis emitter. Called after a change commits; the view's version lets clients drop
// anything older than what they already show.
import { Emitter } from "@socket.io/redis-emitter";
import type { OrderView, ServerToClientEvents } from "../contract";
import { findOrder, toOrderView } from "../orders/view";
import { redis, redisKey } from "../redis";
import { checkoutRoom, orderRoom } from "./rooms";

let emitter: Emitter<ServerToClientEvents> | undefined;

/** The Redis key socket.io's adapter and emitter share. */
export function socketKey(): string {
  return redisKey("socket.io");
}

function getEmitter(): Emitter<ServerToClientEvents> {
  emitter ??= new Emitter<ServerToClientEvents>(redis("pub"), { key: socketKey() });
  return emitter;
}

/** Reads the order's committed state, pushes it, and returns it. The push never fails the work: while
 * Redis is down, ioredis holds it and sends it on reconnect (watchers drop what is no longer newest),
 * and a page that reconnects reads the snapshot anyway. */
export async function publishOrder(orderId: string): Promise<OrderView> {
  const order = await findOrder({ id: orderId });
  if (!order) throw new Error(`order ${orderId} vanished`);
  const view = toOrderView(order);
  getEmitter()
    .to([orderRoom(order.id), checkoutRoom(order.sessionId, order.idempotencyKey)])
    .emit("order:updated", view);
  return view;
}
