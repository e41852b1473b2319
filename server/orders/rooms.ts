// socket.io rooms and the Redis channels they travel on. Every push goes to one order's room; a page
// that watches a checkout by its idempotency key joins the room of the order that key started.
import { createShardedAdapter } from "@socket.io/redis-adapter";
import { type RedisClient, redisKey } from "../redis";

export function orderRoom(orderId: string): string {
  return `order:${orderId}`;
}

/** The channel prefix of every room's channel. */
function socketKey(): string {
  return redisKey("socket.io");
}

/** The Redis channel of one room, as the sharded adapter names it (prefix, namespace "/", room): a web
 * process subscribes to it only while one of its connections is in the room. */
export function roomChannel(room: string): string {
  return `${socketKey()}#/#${room}#`;
}

/** The adapter of both ends (the web process's socket.io server, and the connectionless one a process
 * without sockets pushes through): socket.io's sharded adapter with dynamic subscriptions, so a push to
 * an order nobody watches reaches no process, and one that somebody watches reaches only the process
 * holding that connection, however many web processes there are. */
export function roomAdapter(pub: RedisClient, sub: RedisClient) {
  return createShardedAdapter(pub, sub, { subscriptionMode: "dynamic", channelPrefix: socketKey() });
}
