// Pushes an order's current view to everyone watching it, from any process (web or worker), through
// socket.io's Redis emitter. Called after a change commits; the view's version lets clients drop
// anything older than what they already show.
import { Emitter } from "@socket.io/redis-emitter";
import type { ServerToClientEvents } from "../contract";
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

export async function publishOrder(orderId: string): Promise<void> {
  const order = await findOrder({ id: orderId });
  if (!order) return;
  getEmitter()
    .to([orderRoom(order.id), checkoutRoom(order.sessionId, order.idempotencyKey)])
    .emit("order:updated", toOrderView(order));
}
