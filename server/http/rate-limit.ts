// Limits per caller over a window, counted in Redis so that every web process behind the balancer
// counts the same calls: the first call of a window starts it, and past `max` calls the caller is told
// how long until it ends.
import type { Result } from "ioredis";
import { defineScript, redis, redisKey } from "../redis";

// KEYS: the counter. ARGV: window (ms), max. Returns -1 to go ahead, else the ms left in the window.
const SPEND = `
local calls = redis.call("incr", KEYS[1])
if calls == 1 then redis.call("pexpire", KEYS[1], ARGV[1]) end
if calls <= tonumber(ARGV[2]) then return -1 end
local left = redis.call("pttl", KEYS[1])
if left < 0 then redis.call("pexpire", KEYS[1], ARGV[1]) return tonumber(ARGV[1]) end
return left`;
defineScript("spendLimit", SPEND, 1);

declare module "ioredis" {
  interface RedisCommander<Context> {
    spendLimit(counter: string, windowMs: number, max: number): Result<number, Context>;
  }
}

export interface Limit {
  max: number;
  windowMs: number;
}

/** Counts one call of `what` by `who`: null if it may go ahead, else how long to wait (ms). */
export async function spend(what: string, who: string, { max, windowMs }: Limit): Promise<number | null> {
  const left = await redis("command").spendLimit(redisKey("limit", what, who), windowMs, max);
  return left < 0 ? null : left;
}
