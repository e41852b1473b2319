// socket.io room names. An order's room, and a checkout's room: a session can watch its own checkout
// by idempotency key before the order id exists (a synchronous checkout streams its steps that way).
import { redisKey } from "../redis";

export function orderRoom(orderId: string): string {
  return `order:${orderId}`;
}

export function checkoutRoom(sessionId: string, idempotencyKey: string): string {
  return `checkout:${sessionId}:${idempotencyKey}`;
}

/** The Redis key socket.io's adapter (server.ts) and the order feed's emitter share. */
export function socketKey(): string {
  return redisKey("socket.io");
}
