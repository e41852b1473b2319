// The order's change feed: after a change commits, its new view goes to everyone watching the order,
// from whichever process (web or worker) made it, through socket.io's Redis adapter. The view carries
// the order's version, so a page drops anything older than what it already shows.
import { Server } from "socket.io";
import type { OrderView, ServerToClientEvents } from "../contract";
import { log } from "../log";
import { redis, unavailable } from "../redis";
import { orderRoom, roomAdapter } from "./rooms";
import { type OrderRecord, toOrderView } from "./view";

/** What can push to a room: the web process's own socket.io server, or, in a worker, a server with
 * no connections of its own, only the adapter, whose emits are published on the room's channel for
 * the web process holding the room's connections. */
type Broadcaster = Pick<Server<Record<string, never>, ServerToClientEvents>, "to">;

let broadcaster: Broadcaster | undefined;
/** Pushes are being dropped: Redis is away. */
let dropping = false;

/** The web process pushes through the socket.io server it already runs (one adapter, one pair of
 * Redis connections) for as long as that server is up. Returns the undo, for its shutdown. */
export function broadcastThrough(server: Broadcaster): () => void {
  broadcaster = server;
  return () => {
    if (broadcaster === server) broadcaster = undefined;
  };
}

/** A socket.io server with no connections, only the adapter: how a process without sockets pushes. */
export function connectionlessBroadcaster(pub = redis("pub"), sub = redis("sub")): Broadcaster {
  const server = new Server<Record<string, never>, ServerToClientEvents>();
  server.adapter(roomAdapter(pub, sub));
  return server;
}

function getBroadcaster(): Broadcaster {
  broadcaster ??= connectionlessBroadcaster();
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
