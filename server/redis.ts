// Named Redis connections, created on first use (nothing connects at import, so `next build`
// and tests that never touch Redis stay offline). Close them with closeRedis().
// The one place that knows whether Redis is one server or a Redis Cluster (config.redis): every user
// (BullMQ, socket.io's adapter, the knobs, the locks, the capacity slots) gets a client from here, an
// ioredis `Redis` or `Cluster`, which answer the same commands. On a cluster a multi-key command or
// script must touch keys of one hash slot: their names carry a hash tag (`{…}`, see queuePrefix and
// the capacity keys in downstream/capacity.ts); a plain Redis reads the same names.
import type { Cluster, Redis, RedisOptions } from "ioredis";
import { config } from "./config";
import { log, messageOf, redisOutage } from "./log";
import { type ClusterTarget, clientFor, queuePrefixFor } from "./redis-target";

/** A connection to one Redis or to a Redis Cluster: for the commands this project sends, the same. */
export type RedisClient = Redis | Cluster;

type Role =
  /** Short commands that must fail fast when Redis is down (knobs, queue producers). */
  | "command"
  /** Blocking consumers (BullMQ workers): wait out an outage instead of failing. */
  | "blocking"
  /** socket.io adapter pub/sub and the emitter. */
  | "pub"
  | "sub";

/** How long a short command waits for its reply. A connection can look ready to a peer that will
 * never answer (a partition that drops packets, a port that accepts and stays silent, a command sent
 * as Redis died and sent again to such a peer): without a limit the command, and whatever awaits it,
 * waits for good; with one it fails, and the caller takes its fallback as in an outage. */
const COMMAND_TIMEOUT_MS = 2000;

const roleOptions: Record<Role, RedisOptions> = {
  command: { maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: COMMAND_TIMEOUT_MS },
  blocking: { maxRetriesPerRequest: null },
  pub: { maxRetriesPerRequest: null },
  sub: { maxRetriesPerRequest: null },
};

const connections = new Map<Role, RedisClient>();
/** Connections that have been ready at least once. */
const connectedOnce = new WeakSet<RedisClient>();

export class RedisUnavailableError extends Error {}

export function redis(role: Role): RedisClient {
  let connection = connections.get(role);
  if (!connection) {
    connection = createRedis(role);
    connections.set(role, connection);
  }
  return connection;
}

/** Connections trying to get Redis back: the outage is over (and logged so, once) when none is left. */
const reconnecting = new Set<RedisClient>();

const clusterLog = log.child({ component: "redis-cluster" });

/** A Redis Cluster client: it learns the topology from any node, sends each command to the primary of
 * its key's slot, follows MOVED/ASK redirections, and after a failover (a replica promoted) refreshes
 * the topology and goes on with the new primary. A subscriber ("sub") keeps one connection per primary
 * for sharded pub/sub (SSUBSCRIBE), moved over when slots move; plain SUBSCRIBE uses one node, whose
 * messages the cluster bus brings from every node. */
function createCluster(role: Role, target: ClusterTarget): Cluster {
  const cluster = clientFor(target, roleOptions[role], {
    shardedSubscribers: role === "sub",
    // A failover takes the cluster's node timeout plus an election: keep a command that meets it
    // retrying that long rather than fail at once (MOVED and TRYAGAIN are followed as they come).
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    maxRedirections: 32,
    // A killed primary's slots are re-read soon after its replica takes over.
    slotsRefreshInterval: 2000,
    lazyConnect: false,
  });
  // A node that stops answering is no outage of Redis: the cluster goes on with the others and, for
  // its slots, with the replica it promotes. Logged once per node and time, at warn, as operators
  // want to know.
  const failing = new Set<string>();
  cluster.on("node error", (error: unknown, key: string) => {
    if (failing.has(key)) return;
    failing.add(key);
    clusterLog.warn({ node: key, error: messageOf(error) }, "Redis Cluster node unreachable");
  });
  cluster.on("refresh", () => {
    for (const key of failing) {
      const node = cluster.nodes("all").find(({ options }) => `${options.host}:${options.port}` === key);
      if (node && node.status !== "ready") continue;
      failing.delete(key);
      clusterLog.info(
        { node: key },
        node
          ? "Redis Cluster node answers again"
          : "Redis Cluster node left the topology (a replica serves its slots)",
      );
    }
  });
  return cluster;
}

/** A connection of its own (BullMQ workers each want one). The caller must quit() it. */
export function createRedis(role: Role): RedisClient {
  const target = config.redis;
  const connection =
    target.kind === "cluster"
      ? createCluster(role, target)
      : clientFor(target, { ...roleOptions[role], lazyConnect: false });
  for (const [name, definition] of scripts) connection.defineCommand(name, definition);
  // An unhandled 'error' event would crash the process during an outage; ioredis reconnects itself
  // and reports every attempt: the process logs the outage once, with the first error.
  connection.on("error", (error) => {
    reconnecting.add(connection);
    redisOutage.lost(error);
  });
  // A connection closed by its server (not by quit()) reconnects: that is an outage too.
  connection.on("reconnecting", () => {
    reconnecting.add(connection);
    redisOutage.lost(new Error("connection closed by Redis"));
  });
  connection.on("ready", () => {
    connectedOnce.add(connection);
    reconnecting.delete(connection);
    if (reconnecting.size === 0) redisOutage.back();
  });
  connection.on("end", () => reconnecting.delete(connection));
  return connection;
}

/** Redis is away for this connection: it was connected and lost it, or a first attempt has failed
 * already. A command sent now would wait in ioredis' offline queue through its reconnect attempts
 * (tens of seconds); a process that is still making its first connection waits for it as usual. */
export function unavailable(connection: RedisClient): boolean {
  return (
    connection.status === "reconnecting" || (connectedOnce.has(connection) && connection.status !== "ready")
  );
}

/** The "command" connection for a command that must not wait while Redis is away: throws
 * RedisUnavailableError at once instead, so the caller answers with its fallback (the last-known
 * knobs, a call not counted against capacity) or a clear error. */
export function failFast(): RedisClient {
  const connection = redis("command");
  if (unavailable(connection)) throw new RedisUnavailableError(`Redis is unreachable (${connection.status})`);
  return connection;
}

export async function closeRedis(): Promise<void> {
  const open = [...connections.values()];
  connections.clear();
  await Promise.all(open.map((connection) => connection.quit().catch(() => connection.disconnect())));
}

/** BullMQ's key prefix for one queue (hash-tagged on a Redis Cluster: see queuePrefixFor). */
export function queuePrefix(queue: string): string {
  return queuePrefixFor(config.redis, config.REDIS_PREFIX, queue);
}

/** A Redis key in this deployment's namespace. */
export function redisKey(...parts: string[]): string {
  return [config.REDIS_PREFIX, ...parts].join(":");
}

/** The Lua scripts that modules define as commands (see defineScript). */
const scripts = new Map<string, { lua: string; numberOfKeys: number }>();

/** Makes a Lua script a command of every connection from here (ioredis `defineCommand`): called as
 * `connection.<name>(...keys, ...args)`, it is sent by its SHA1 (EVALSHA), and by its text (EVAL) only
 * when Redis does not know it yet (first use, or after a restart emptied its script cache). The
 * defining module declares the command's type on ioredis' `RedisCommander` next to its script. */
export function defineScript(name: string, lua: string, numberOfKeys: number): void {
  scripts.set(name, { lua, numberOfKeys });
  for (const connection of connections.values()) connection.defineCommand(name, { lua, numberOfKeys });
}
