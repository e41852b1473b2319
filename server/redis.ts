// Named Redis connections, created on first use (nothing connects at import, so `next build`
// and tests that never touch Redis stay offline). Close them with closeRedis().
import { createHash } from "node:crypto";
import { Redis, type RedisOptions } from "ioredis";
import { config } from "./config";

type Role =
  /** Short commands that must fail fast when Redis is down (knobs, queue producers). */
  | "command"
  /** Blocking consumers (BullMQ workers): wait out an outage instead of failing. */
  | "blocking"
  /** socket.io adapter pub/sub and the emitter. */
  | "pub"
  | "sub";

const roleOptions: Record<Role, RedisOptions> = {
  command: { maxRetriesPerRequest: 1, connectTimeout: 2000 },
  blocking: { maxRetriesPerRequest: null },
  pub: { maxRetriesPerRequest: null },
  sub: { maxRetriesPerRequest: null },
};

const connections = new Map<Role, Redis>();
/** Connections that have been ready at least once. */
const connectedOnce = new WeakSet<Redis>();

export class RedisUnavailableError extends Error {}

export function redis(role: Role): Redis {
  let connection = connections.get(role);
  if (!connection) {
    connection = createRedis(role);
    connections.set(role, connection);
  }
  return connection;
}

/** A connection of its own (BullMQ workers each want one). The caller must quit() it. */
export function createRedis(role: Role): Redis {
  const connection = new Redis(config.REDIS_URL, { ...roleOptions[role], lazyConnect: false });
  // An unhandled 'error' event would crash the process during an outage; ioredis reconnects itself.
  connection.on("error", () => {});
  connection.once("ready", () => connectedOnce.add(connection));
  return connection;
}

/** Redis is away for this connection: it was connected and lost it, or a first attempt has failed
 * already. A command sent now would wait in ioredis' offline queue through its reconnect attempts
 * (tens of seconds); a process that is still making its first connection waits for it as usual. */
export function unavailable(connection: Redis): boolean {
  return (
    connection.status === "reconnecting" || (connectedOnce.has(connection) && connection.status !== "ready")
  );
}

/** The "command" connection for a command that must not wait while Redis is away: throws
 * RedisUnavailableError at once instead, so the caller answers with its fallback (the last-known
 * knobs, a call not counted against capacity) or a clear error. */
export function failFast(): Redis {
  const connection = redis("command");
  if (unavailable(connection)) throw new RedisUnavailableError(`Redis is unreachable (${connection.status})`);
  return connection;
}

export async function closeRedis(): Promise<void> {
  const open = [...connections.values()];
  connections.clear();
  await Promise.all(open.map((connection) => connection.quit().catch(() => connection.disconnect())));
}

/** A Redis key in this deployment's namespace. */
export function redisKey(...parts: string[]): string {
  return [config.REDIS_PREFIX, ...parts].join(":");
}

const scriptShas = new Map<string, string>();

/** Runs a Lua script by its SHA1 (EVALSHA), sending its text (EVAL) only when Redis does not know it
 * yet: on first use, or after a restart emptied its script cache. */
export async function runScript(
  connection: Redis,
  lua: string,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  let sha = scriptShas.get(lua);
  if (!sha) {
    sha = createHash("sha1").update(lua).digest("hex");
    scriptShas.set(lua, sha);
  }
  try {
    return await connection.evalsha(sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
    return connection.eval(lua, keys.length, ...keys, ...args);
  }
}
