// Where Redis is, read from REDIS_URL / REDIS_CLUSTER_NODES (server/config.ts), and how to reach it:
// one server, or a Redis Cluster. Pure (no environment, no connection at import), so scripts that read
// a shop's Redis from the outside (tools/invariants/read.ts) build their client the way the shop does.
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";
import { z } from "zod";

export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/** A Redis Cluster node. */
export interface RedisNode {
  host: string;
  port: number;
}

/** Where Redis is: one server (or a failover pair behind one address), or a Redis Cluster, given by a
 * few of its nodes. */
export type RedisTarget =
  | { kind: "single"; url: string }
  | { kind: "cluster"; nodes: RedisNode[]; tls: boolean; username?: string; password?: string };
export type ClusterTarget = Extract<RedisTarget, { kind: "cluster" }>;

const CLUSTER_URL = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#]*)\/?$/i;

/** `host:port,host:port` as nodes; throws in words on anything else. */
function clusterNodes(list: string): RedisNode[] {
  const items = list.split(",").map((item) => item.trim());
  if (items.length === 0 || items.some((item) => item === "")) {
    throw new Error(
      "name the cluster's nodes as host:port, comma-separated (e.g. 127.0.0.1:7000,127.0.0.1:7001)",
    );
  }
  return items.map((item) => {
    let url: URL;
    try {
      url = new URL(`redis://${item}`);
    } catch {
      throw new Error(`"${item}" is not host:port`);
    }
    if (url.pathname !== "" || url.username || url.password || !url.port) {
      throw new Error(`"${item}" is not host:port (a cluster node needs its port)`);
    }
    return { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port) };
  });
}

/** A bad REDIS_URL or REDIS_CLUSTER_NODES, in words. */
export class RedisTargetError extends Error {
  constructor(
    readonly variable: "REDIS_URL" | "REDIS_CLUSTER_NODES",
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "RedisTargetError";
  }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Reads REDIS_URL / REDIS_CLUSTER_NODES; throws a RedisTargetError on a bad value. */
export function redisTarget(url: string | undefined, nodes: string | undefined): RedisTarget {
  if (nodes !== undefined && nodes !== "") {
    if (url) {
      throw new RedisTargetError(
        "REDIS_CLUSTER_NODES",
        "REDIS_URL is set too: set one of them (REDIS_URL=redis+cluster://user:password@host:port,… carries credentials)",
      );
    }
    try {
      return { kind: "cluster", nodes: clusterNodes(nodes), tls: false };
    } catch (error) {
      throw new RedisTargetError("REDIS_CLUSTER_NODES", messageOf(error));
    }
  }
  const text = url || DEFAULT_REDIS_URL;
  const cluster = CLUSTER_URL.exec(text);
  if (cluster) {
    const [, scheme = "redis", credentials = "", list = ""] = cluster;
    const [username = "", password = ""] = credentials.split(":").map(decodeURIComponent);
    try {
      return {
        kind: "cluster",
        nodes: clusterNodes(list),
        tls: scheme.toLowerCase() === "rediss",
        ...(username ? { username } : {}),
        ...(password ? { password } : {}),
      };
    } catch (error) {
      throw new RedisTargetError("REDIS_URL", messageOf(error));
    }
  }
  if (!z.url({ protocol: /^rediss?$/ }).safeParse(text).success) {
    throw new RedisTargetError(
      "REDIS_URL",
      `"${text}" is neither redis://host:port (one Redis) nor redis+cluster://host:port,host:port (a Redis Cluster)`,
    );
  }
  return { kind: "single", url: text };
}

/** A client for `target`: an ioredis Redis, or a Cluster whose nodes all get `options`. */
export function clientFor(
  target: ClusterTarget,
  options: RedisOptions,
  clusterOptions?: Omit<ClusterOptions, "redisOptions">,
): Cluster;
export function clientFor(
  target: RedisTarget,
  options: RedisOptions,
  clusterOptions?: Omit<ClusterOptions, "redisOptions">,
): Redis | Cluster;
export function clientFor(
  target: RedisTarget,
  options: RedisOptions,
  clusterOptions: Omit<ClusterOptions, "redisOptions"> = {},
): Redis | Cluster {
  if (target.kind === "single") return new Redis(target.url, options);
  return new Cluster(target.nodes, {
    ...clusterOptions,
    redisOptions: {
      ...options,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
  });
}

/** BullMQ's key prefix for one queue. Its Lua scripts touch many keys of a queue at once, so on a Redis
 * Cluster every key of a queue must live in one hash slot: the prefix carries a hash tag, one per
 * queue (`{storefront-email}:email:wait`), which spreads the queues over the primaries. On one Redis the
 * plain prefix, as always (`storefront:email:wait`). */
export function queuePrefixFor(target: Pick<RedisTarget, "kind">, prefix: string, queue: string): string {
  return target.kind === "cluster" ? `{${prefix}-${queue}}` : prefix;
}
