// socket.io on the web process: watchers join an order's room after an ownership check, and the Redis
// adapter delivers what any process (this one, another web process, a worker) emits to that room.
import type { Server as HttpServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { Server } from "socket.io";
import { z } from "zod";
import {
  type ClientToServerEvents,
  type ServerToClientEvents,
  type WatchAck,
  watchOrderInput,
} from "../contract";
import { findOrder, toOrderView } from "../orders/view";
import { createRedis } from "../redis";
import { readSession } from "../session";
import { checkoutRoom, orderRoom, socketKey } from "./rooms";

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents>;

const NOT_FOUND: WatchAck = { ok: false, error: "Order not found" };

export function attachRealtime(httpServer: HttpServer): { io: RealtimeServer; close: () => Promise<void> } {
  const pub = createRedis("pub");
  const sub = createRedis("sub");
  const io: RealtimeServer = new Server(httpServer, { serveClient: false });
  io.adapter(createAdapter(pub, sub, { key: socketKey() }));

  io.on("connection", (socket) => {
    const sessionId = readSession(socket.handshake.headers.cookie);

    socket.on("order:watch", async (input, ack) => {
      if (typeof ack !== "function") return;
      const parsed = watchOrderInput.safeParse(input);
      if (!parsed.success) return ack({ ok: false, error: z.prettifyError(parsed.error) });
      if (!sessionId) return ack(NOT_FOUND);
      try {
        if ("orderId" in parsed.data) {
          // Check ownership before joining; join before reading so no update falls in between.
          const owner = await findOrder({ id: parsed.data.orderId });
          if (!owner || owner.sessionId !== sessionId) return ack(NOT_FOUND);
          await socket.join(orderRoom(owner.id));
          const order = await findOrder({ id: owner.id });
          return ack(order ? { ok: true, order: toOrderView(order) } : NOT_FOUND);
        }
        // A checkout still in flight: the room is scoped to this session, so nothing leaks.
        const { idempotencyKey } = parsed.data;
        await socket.join(checkoutRoom(sessionId, idempotencyKey));
        const order = await findOrder({ idempotencyKey });
        ack({ ok: true, order: order && order.sessionId === sessionId ? toOrderView(order) : null });
      } catch (error) {
        console.error("order:watch failed", error);
        ack({ ok: false, error: "Could not watch the order right now; it will refresh on its own." });
      }
    });
  });

  return {
    io,
    close: async () => {
      await io.close();
      await Promise.all([pub.quit().catch(() => {}), sub.quit().catch(() => {})]);
    },
  };
}
