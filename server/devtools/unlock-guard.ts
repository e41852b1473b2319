// Guessing the developer tools' key: each client (server/http/edge.ts `clientAddress`) gets a few tries, then
// a lockout that doubles with every lockout in a day (1 min, 2 min, 4 min … at most an hour), kept in
// Redis so every web process counts the same tries. Each try is counted before the key is compared, so
// a thousand tries sent at once still get only the first few compared. One log line per lockout.
import type { Result } from "ioredis";
import { log } from "../log";
import { defineScript, redis, redisKey } from "../redis";

/** Wrong keys a client may try before it is locked out. */
export const UNLOCK_TRIES = 5;
const FIRST_LOCKOUT_MS = 60_000;
const LONGEST_LOCKOUT_MS = 60 * 60_000;
/** How long wrong tries, and past lockouts, are remembered. */
const TRIES_REMEMBERED_MS = 15 * 60_000;
const LOCKOUTS_REMEMBERED_MS = 24 * 60 * 60_000;

// KEYS: tries, lock, lockouts. ARGV: tries allowed, tries remembered, first lockout, longest lockout,
// lockouts remembered. Returns { 1 } to go ahead, or { 0, ms left, 1 if this try started the lockout }.
const TRY = `
local left = redis.call("pttl", KEYS[2])
if left > 0 then return {0, left, 0} end
local tries = redis.call("incr", KEYS[1])
if tries == 1 then redis.call("pexpire", KEYS[1], ARGV[2]) end
if tries <= tonumber(ARGV[1]) then return {1} end
local lockouts = redis.call("incr", KEYS[3])
redis.call("pexpire", KEYS[3], ARGV[5])
local ms = math.min(tonumber(ARGV[3]) * 2 ^ (lockouts - 1), tonumber(ARGV[4]))
redis.call("set", KEYS[2], "1", "PX", ms)
redis.call("del", KEYS[1])
return {0, ms, 1}`;
defineScript("tryUnlock", TRY, 3);

declare module "ioredis" {
  interface RedisCommander<Context> {
    tryUnlock(
      tries: string,
      lock: string,
      lockouts: string,
      triesAllowed: number,
      triesRememberedMs: number,
      firstLockoutMs: number,
      longestLockoutMs: number,
      lockoutsRememberedMs: number,
    ): Result<number[], Context>;
  }
}

function keysOf(client: string): [tries: string, lock: string, lockouts: string] {
  return [
    redisKey("dev-unlock", "tries", client),
    redisKey("dev-unlock", "lock", client),
    redisKey("dev-unlock", "lockouts", client),
  ];
}

/** Counts one try of the key by `client`: null if it may go ahead, or how long it must wait (ms). */
export async function tryUnlock(client: string): Promise<number | null> {
  const answer = await redis("command").tryUnlock(
    ...keysOf(client),
    UNLOCK_TRIES,
    TRIES_REMEMBERED_MS,
    FIRST_LOCKOUT_MS,
    LONGEST_LOCKOUT_MS,
    LOCKOUTS_REMEMBERED_MS,
  );
  const [goAhead, waitMs = 0, started = 0] = answer;
  if (goAhead === 1) return null;
  if (started === 1) {
    log.warn(
      { client, tries: UNLOCK_TRIES, lockedForMs: waitMs },
      "developer tools: too many wrong keys from one client; locked out",
    );
  }
  return waitMs;
}

/** The right key: the client's tries and lockouts are forgotten. */
export async function unlockSucceeded(client: string): Promise<void> {
  await redis("command").del(...keysOf(client));
}
