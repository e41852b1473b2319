// The order's change feed: after a change commits, its new view goes to everyone watching the order,
// from whichever process (web or worker) made it, through socket.io's Redis adapter. The view carries
// the order's version, so a page drops anything older than what it already shows.
import { createShardedAdapter } from "@socket.io/redis-adapter";
import { Server } from "socket.io";
import type { OrderView, ServerToClientEvents } from "../contract";
import { log } from "../log";
import { ADAPTER_OPTIONS, orderRoom, socketKey } from "../realtime/rooms";
import { redis, unavailable } from "../redis";
import { type OrderRecord, toOrderView } from "./view";

/** A socket.io server with no connections of its own, only the adapter: what it emits to a room is
 * published on that room's channel, for the web process holding the room's connections. */
let broadcaster: Server<Record<string, never>, ServerToClientEvents> | undefined;
/** Pushes are being dropped: Redis is away. */
let dropping = false;

function getBroadcaster(): Server<Record<string, never>, ServerToClientEvents> {
  if (!broadcaster) {
    broadcaster = new Server();
    broadcaster.adapter(
      createShardedAdapter(redis("pub"), redis("sub"), { ...ADAPTER_OPTIONS, channelPrefix: socketKey() }),
    );
  }
  return broadcaster;
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
  getBroadcaster().to(orderRoom(order.id)).emit("order:updated", view);
  return view;
}
