// Named Redis connections, created on first use (nothing connects at import, so `next build`
// and tests that never touch Redis stay offline). Close them with closeRedis().
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
