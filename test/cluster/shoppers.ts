// Shoppers of the cluster tests, as the shop's pages behave: a session cookie of their own, orders
// placed over HTTP, and socket.io watchers (WebSocket only) that watch again on every reconnect.
import { randomUUID } from "node:crypto";
import { io as connect, type Socket } from "socket.io-client";
import { expect } from "vitest";
import {
  type ClientToServerEvents,
  type OrderView,
  PLANNED_SIDE_EFFECTS,
  type ServerToClientEvents,
  type WatchAck,
} from "../../server/contract";
import { SESSION_COOKIE } from "../../server/http/session";
import { CookieJar, callProcedure, keepAliveAgent } from "../../tools/load/http";
import { orderInput } from "../helpers";

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

const clients: Client[] = [];

/** Closes every watcher's socket (after the file's tests). */
export function disconnectWatchers(): void {
  for (const client of clients.splice(0)) client.disconnect();
}

/** A shopper: a session cookie of its own, for the API and for socket.io. */
export function shopper() {
  const session = randomUUID();
  const jar = new CookieJar();
  jar.keep([`${SESSION_COOKIE}=${session}`]);
  return { jar, cookie: jar.header };
}

export async function place(target: string, jar: CookieJar, productId: string): Promise<OrderView> {
  const reply = await callProcedure(target, "order.place", {
    agent: keepAliveAgent(target, 1),
    kind: "mutation",
    input: orderInput(productId),
    jar,
    timeoutMs: 10_000,
  });
  expect(reply.status, reply.body).toBe(200);
  return (JSON.parse(reply.body) as { result: { data: OrderView } }).result.data;
}

/** A socket.io client the way the shop's pages connect (WebSocket only), that watches `orderId` again on
 * every (re)connect, keeps the newest view it saw, and records every version that reached it. */
export function watcher(target: string, cookie: string, reconnect: boolean) {
  const socket: Client = connect(target, {
    transports: ["websocket"],
    extraHeaders: { cookie },
    reconnection: reconnect,
    reconnectionDelay: 100,
    reconnectionDelayMax: 500,
  });
  clients.push(socket);
  const seen = { latest: null as OrderView | null, versions: [] as number[], connects: 0, drops: 0 };
  const keep = (order: OrderView) => {
    seen.versions.push(order.version);
    if (!seen.latest || order.version > seen.latest.version) seen.latest = order;
  };
  socket.on("order:updated", keep);
  socket.on("disconnect", () => {
    seen.drops += 1;
  });
  return {
    socket,
    seen,
    watch(orderId: string): Promise<void> {
      const ask = () =>
        new Promise<void>((resolve, reject) => {
          socket.timeout(5000).emit("order:watch", { orderId }, (error: Error | null, ack: WatchAck) => {
            if (error) return reject(error);
            if (!ack.ok) return reject(new Error(ack.error));
            keep(ack.order);
            resolve();
          });
        });
      socket.on("connect", () => {
        seen.connects += 1;
        if (seen.connects > 1) void ask().catch(() => {});
      });
      if (socket.connected) return ask();
      return new Promise<void>((resolve) => socket.once("connect", () => resolve())).then(ask);
    },
  };
}

export async function until(what: string, holds: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!holds()) {
    if (Date.now() > deadline) throw new Error(`still not ${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The watcher ended with exactly the database's order, every version after the snapshot it was
 * answered with reached it (none skipped), and every side effect succeeded. */
export function expectFollowedToTheEnd(
  seen: { latest: OrderView | null; versions: number[] },
  stored: OrderView | null,
) {
  expect(seen.latest).toEqual(stored);
  const versions = [...new Set(seen.versions)].sort((a, b) => a - b);
  const from = versions[0] ?? 0;
  expect(versions).toEqual(Array.from({ length: (stored?.version ?? 0) - from + 1 }, (_, i) => from + i));
  for (const step of PLANNED_SIDE_EFFECTS) {
    expect(stored?.steps.find((candidate) => candidate.name === step)?.status).toBe("succeeded");
  }
}
