// The order's change feed: after a change commits, its new view goes to everyone watching the order,
// from whichever process (web or worker) made it, through socket.io's Redis emitter. The view carries
// the order's version, so a page drops anything older than what it already shows.
import { Emitter } from "@socket.io/redis-emitter";
import type { OrderView, ServerToClientEvents } from "../contract";
import { checkoutRoom, orderRoom, socketKey } from "../realtime/rooms";
import { redis } from "../redis";
import { type OrderRecord, toOrderView } from "./view";

let emitter: Emitter<ServerToClientEvents> | undefined;

function getEmitter(): Emitter<ServerToClientEvents> {
  emitter ??= new Emitter<ServerToClientEvents>(redis("pub"), { key: socketKey() });
  return emitter;
}

/** Pushes the order as a change left it, and returns its view. The push never fails the work: while
 * Redis is down, ioredis holds it and sends it on reconnect (watchers drop what is no longer newest),
 * and a page that reconnects reads the snapshot anyway. */
export function publish(order: OrderRecord): OrderView {
  const view = toOrderView(order);
  getEmitter()
    .to([orderRoom(order.id), checkoutRoom(order.sessionId, order.idempotencyKey)])
    .emit("order:updated", view);
  return view;
}
