// socket.io on the web process: watchers join an order's room after an ownership check, and the Redis
// adapter delivers what any process (this one, another web process, a worker) emits to that room. The
// adapter is the sharded one with dynamic subscriptions: this process hears a room's channel only
// while one of its connections is in the room, so pushes to orders nobody here watches cost it nothing.
// Only the shop's own pages (or ALLOWED_ORIGINS, or clients that are no page at all) may connect; one
// connection watches a few orders at most, and asks at a bounded rate.
import type { Server as HttpServer } from "node:http";
import { Server } from "socket.io";
import { z } from "zod";
import {
  type AppErrorCode,
  type ClientToServerEvents,
  describeIssues,
  type ServerToClientEvents,
  type WatchAck,
  watchOrderInput,
} from "../contract";
import { crossSiteReason, hostAllowed } from "../http/edge";
import { readSession } from "../http/session";
import { log, noteOutage } from "../log";
import { broadcastThrough } from "../orders/feed";
import { orderRoom, roomAdapter, roomChannel } from "../orders/rooms";
import { findOrder, toOrderView } from "../orders/view";
import { createRedis } from "../redis";

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents>;

/** Orders one connection may watch at once (a page watches one). */
export const MAX_WATCHED_ORDERS = 10;
/** `order:watch` requests one connection may make in a burst, and how fast that allowance refills. */
export const WATCH_BURST = 20;
const WATCH_REFILL_PER_S = 2;
/** Bytes in one message from a client: watch requests are tiny. */
const MAX_MESSAGE_BYTES = 10_000;

function refused(code: AppErrorCode, error: string): WatchAck {
  return { ok: false, code, error };
}
const NOT_FOUND = refused("NOT_FOUND", "Order not found");

/** A token bucket: `take()` is false once the burst is spent, until time refills it. */
function rateLimit(burst: number, perSecond: number): { take: () => boolean } {
  let tokens = burst;
  let last = performance.now();
  return {
    take() {
      const now = performance.now();
      tokens = Math.min(burst, tokens + ((now - last) / 1000) * perSecond);
      last = now;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}

export function attachRealtime(httpServer: HttpServer): { io: RealtimeServer; close: () => Promise<void> } {
  const pub = createRedis("pub");
  const sub = createRedis("sub");
  const io: RealtimeServer = new Server(httpServer, {
    serveClient: false,
    maxHttpBufferSize: MAX_MESSAGE_BYTES,
    // Browsers send Origin on every WebSocket handshake; a page of another site (even another port
    // of this host, whose requests carry the shopper's cookie) is turned away here.
    allowRequest: (req, answer) => {
      const reason = hostAllowed(req) ? crossSiteReason(req) : "This host name is not served here.";
      answer(reason, reason === null);
    },
  });
  io.adapter(roomAdapter(pub, sub));
  const stopBroadcasting = broadcastThrough(io);

  io.on("connection", (socket) => {
    const sessionId = readSession(socket.handshake.headers.cookie);
    const watches = rateLimit(WATCH_BURST, WATCH_REFILL_PER_S);

    socket.on("order:watch", async (input, ack) => {
      if (typeof ack !== "function") return;
      if (!watches.take()) {
        return ack(
          refused("TOO_MANY_REQUESTS", "Too many watch requests on this connection; wait a moment."),
        );
      }
      const parsed = watchOrderInput.safeParse(input);
      if (!parsed.success) {
        const { fieldErrors } = z.flattenError(parsed.error);
        return ack({ ok: false, code: "BAD_REQUEST", error: describeIssues(parsed.error), fieldErrors });
      }
      if (!sessionId) return ack(NOT_FOUND);
      try {
        // By id, or by the idempotency key of a checkout that has started: either way the order must
        // exist and be this session's before the connection joins anything.
        const watch = parsed.data;
        const owned = await findOrder(
          "orderId" in watch ? { id: watch.orderId } : { idempotencyKey: watch.idempotencyKey },
        );
        if (!owned || owned.sessionId !== sessionId) return ack(NOT_FOUND);
        const room = orderRoom(owned.id);
        const watching = socket.rooms.size - 1; // every socket is in a room of its own
        if (!socket.rooms.has(room) && watching >= MAX_WATCHED_ORDERS) {
          return ack(
            refused("TOO_MANY_REQUESTS", `One connection watches at most ${MAX_WATCHED_ORDERS} orders.`),
          );
        }
        // Join, and have Redis confirm this process hears the room's channel, before reading, so no
        // update falls in between. (The adapter subscribes when the room is new here; Redis answers a
        // connection's commands in order, so this answer comes after that subscription took effect.)
        await socket.join(room);
        await sub.ssubscribe(roomChannel(room));
        const order = await findOrder({ id: owned.id });
        ack(order ? { ok: true, order: toOrderView(order) } : NOT_FOUND);
      } catch (error) {
        const watched = parsed.data;
        // A store's outage is logged once by itself; the page refreshes on its own.
        if (!noteOutage(error)) log.error({ err: error, ...watched }, "order:watch failed");
        ack(refused("DEPENDENCY_FAILED", "Could not watch the order right now; it will refresh on its own."));
      }
    });
  });

  return {
    io,
    close: async () => {
      stopBroadcasting();
      await io.close();
      await Promise.all([pub.quit().catch(() => {}), sub.quit().catch(() => {})]);
    },
  };
}
