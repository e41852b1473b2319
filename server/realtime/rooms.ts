// socket.io rooms and the Redis channels they travel on. Every push goes to one order's room; a page
// that watches a checkout by its idempotency key joins the room of the order that key started.
import { redisKey } from "../redis";

export function orderRoom(orderId: string): string {
  return `order:${orderId}`;
}

/** The channel prefix socket.io's adapter (server.ts) and the order feed's broadcaster share. */
export function socketKey(): string {
  return redisKey("socket.io");
}

/** The Redis channel of one room, as the sharded adapter names it (prefix, namespace "/", room): a web
 * process subscribes to it only while one of its connections is in the room. */
export function roomChannel(room: string): string {
  return `${socketKey()}#/#${room}#`;
}

/** Both ends use socket.io's sharded adapter with dynamic subscriptions: a push to an order nobody
 * watches reaches no process, and one that somebody watches reaches only the process holding that
 * connection, however many web processes there are. */
export const ADAPTER_OPTIONS = { subscriptionMode: "dynamic" } as const;
