// The order's change feed: after a change commits, its new view goes to everyone watching the order,
// from whichever process (web or worker) made it, through socket.io's Redis emitter. The view carries
// the order's version, so a page drops anything older than what it already shows.
import { Emitter } from "@socket.io/redis-emitter";
import type { OrderView, ServerToClientEvents } from "../contract";
import { log } from "../log";
import { checkoutRoom, orderRoom, socketKey } from "../realtime/rooms";
import { redis, unavailable } from "../redis";
import { type OrderRecord, toOrderView } from "./view";

let emitter: Emitter<ServerToClientEvents> | undefined;
/** Pushes are being dropped: Redis is away. */
let dropping = false;

function getEmitter(): Emitter<ServerToClientEvents> {
  emitter ??= new Emitter<ServerToClientEvents>(redis("pub"), { key: socketKey() });
  return emitter;
}

/** Pushes the order as a change left it, and returns its view. The push never fails the work. While
 * Redis is away it is dropped rather than held: ioredis' offline queue would grow with every change
 * for as long as the outage lasts. Nothing is lost for good: every push carries the whole order, so
 * the next one after the outage supersedes it, and a page that reconnects reads the snapshot. */
export function publish(order: OrderRecord): OrderView {
  const view = toOrderView(order);
  if (unavailable(redis("pub"))) {
    if (!dropping) log.info("order feed: pushes are dropped until Redis is back");
    dropping = true;
    return view;
  }
  if (dropping) log.info("order feed: pushing again");
  dropping = false;
  getEmitter()
    .to([orderRoom(order.id), checkoutRoom(order.sessionId, order.idempotencyKey)])
    .emit("order:updated", view);
  return view;
}
