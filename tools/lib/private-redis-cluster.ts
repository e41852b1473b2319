// A throwaway Redis Cluster of one's own on this machine: 3 primaries with a replica each (Debian's
// redis-server in cluster mode, created with `redis-cli --cluster create … --cluster-replicas 1`), each
// node with its append-only file, on free ports, in a directory of its own. For `npm run cluster --
// --redis-cluster`, the chaos soak's `--redis-cluster` and the cluster tests, which kill a primary and
// watch its replica take over. Every node is a tools/lib/private-redis.ts server with cluster options.
import { execFile } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { PrivateRedis } from "./private-redis";

/** A node's cluster bus listens on its port + 10000 (Redis' rule): both must be free. */
const BUS_OFFSET = 10_000;
/** How long a node may be silent before the others mark it failed and its replica takes over. Redis'
 * default is 15 s; a local cluster on one machine can tell a dead node much sooner. */
const DEFAULT_NODE_TIMEOUT_MS = 2_000;
const READY_TIMEOUT_MS = 60_000;

export interface ClusterNode {
  port: number;
  /** CLUSTER NODES' id of the node. */
  id: string;
  role: "primary" | "replica";
  /** A replica's primary (its id). */
  primaryId: string | null;
  /** Whether the others count it as failing (`fail` or `fail?`). */
  failing: boolean;
  /** The hash slots a primary serves, as [first, last] ranges. */
  slots: [number, number][];
}

export interface Failover {
  killed: number;
  promoted: number;
  /** From the SIGKILL until the cluster served every slot again, with the replica as primary. */
  ms: number;
}

async function bindable(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (+10000) is free too. */
async function freeNodePort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.has(port) || taken.has(port + BUS_OFFSET) || taken.has(port - BUS_OFFSET)) continue;
    if ((await bindable(port)) && (await bindable(port + BUS_OFFSET))) {
      taken.add(port);
      return port;
    }
  }
  throw new Error("no free port pair for a Redis Cluster node");
}

/** One command to one node on a connection of its own, or null if the node does not answer. */
async function ask(port: number, ...args: string[]): Promise<string | null> {
  const connection = new Redis({
    port,
    host: "127.0.0.1",
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
  });
  connection.on("error", () => {});
  try {
    await connection.connect();
    const [command = "", ...rest] = args;
    return String(await connection.call(command, ...rest));
  } catch {
    return null;
  } finally {
    connection.disconnect();
  }
}

/** CLUSTER NODES, read: `<id> <ip:port@bus> <flags> <primary|-> …`. */
export function parseClusterNodes(text: string): ClusterNode[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [id = "", address = "", flags = "", primary = "-", , , , , ...ranges] = line.split(" ");
      const port = Number(address.split("@")[0]?.split(":").at(-1));
      const flagList = flags.split(",");
      return {
        port,
        id,
        role: flagList.includes("master") ? "primary" : "replica",
        primaryId: primary === "-" ? null : primary,
        failing: flagList.includes("fail") || flagList.includes("fail?"),
        // "0-5460" or "5461"; "[slot-<-id]" marks a slot being migrated, not served.
        slots: ranges
          .filter((range) => /^\d+(-\d+)?$/.test(range))
          .map((range) => {
            const [first, last = first] = range.split("-").map(Number);
            return [first ?? 0, last ?? 0] as [number, number];
          }),
      } satisfies ClusterNode;
    });
}

export class PrivateRedisCluster {
  readonly servers = new Map<number, PrivateRedis>();

  constructor(
    private readonly dir: string,
    private readonly options: { primaries?: number; nodeTimeoutMs?: number } = {},
  ) {}

  /** Every node's address: a client needs any one of them and learns the rest. */
  get url(): string {
    return `redis+cluster://${[...this.servers.keys()].map((port) => `127.0.0.1:${port}`).join(",")}`;
  }

  get ports(): number[] {
    return [...this.servers.keys()];
  }

  /** Starts every node, creates the cluster and waits until it serves every slot, with every replica in
   * sync with its primary. */
  async start(): Promise<void> {
    const primaries = this.options.primaries ?? 3;
    const taken = new Set<number>();
    for (let index = 0; index < primaries * 2; index++) {
      const port = await freeNodePort(taken);
      this.servers.set(port, this.node(port));
    }
    await Promise.all([...this.servers.values()].map((server) => server.start()));
    await promisify(execFile)("redis-cli", [
      "--cluster",
      "create",
      ...this.ports.map((port) => `127.0.0.1:${port}`),
      "--cluster-replicas",
      "1",
      "--cluster-yes",
    ]);
    await this.untilHealthy(this.ports);
  }

  private node(port: number): PrivateRedis {
    const nodeTimeout = this.options.nodeTimeoutMs ?? DEFAULT_NODE_TIMEOUT_MS;
    return new PrivateRedis(
      port,
      path.join(this.dir, String(port)),
      [
        "--cluster-enabled",
        "yes",
        // Written in the node's own directory (--dir): its identity and view of the cluster, kept over a
        // restart, so a killed node comes back as itself (and learns it is a replica now).
        "--cluster-config-file",
        `nodes-${port}.conf`,
        "--cluster-node-timeout",
        String(nodeTimeout),
        // Slots of live primaries keep answering while another primary fails over (Redis' default refuses
        // every command cluster-wide until the failover is done).
        "--cluster-require-full-coverage",
        "no",
        // A replica may take over however long ago it last heard its primary (a local cluster under load).
        "--cluster-replica-validity-factor",
        "0",
      ],
      true,
    );
  }

  /** A command's answer from the first live node that gives one. */
  private async askLive(...args: string[]): Promise<string> {
    for (const port of this.ports) {
      if (!this.servers.get(port)?.running) continue;
      const answer = await ask(port, ...args);
      if (answer !== null) return answer;
    }
    throw new Error("no node of the Redis Cluster answers");
  }

  /** The cluster as a live node sees it. */
  async topology(): Promise<ClusterNode[]> {
    return parseClusterNodes(await this.askLive("CLUSTER", "NODES"));
  }

  /** Until every node of `ports` says the cluster is ok with every slot served, sees no node failing,
   * and every replica's link to its primary is up. */
  private async untilHealthy(ports: number[]): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const healthy = await Promise.all(ports.map((port) => this.nodeHealthy(port)));
      if (healthy.every(Boolean)) return;
      if (Date.now() > deadline) {
        throw new Error(`the Redis Cluster was not healthy within ${READY_TIMEOUT_MS} ms (in ${this.dir})`);
      }
      await sleep(100);
    }
  }

  private async nodeHealthy(port: number): Promise<boolean> {
    const info = await ask(port, "CLUSTER", "INFO");
    if (!info?.includes("cluster_state:ok") || !info.includes("cluster_slots_ok:16384")) return false;
    const nodes = await ask(port, "CLUSTER", "NODES");
    const live = nodes
      ? parseClusterNodes(nodes).filter(({ port: other }) => this.servers.get(other)?.running)
      : [];
    if (live.length === 0 || live.some((node) => node.failing)) return false;
    const replication = await ask(port, "INFO", "replication");
    return (
      replication !== null &&
      (replication.includes("role:master") || replication.includes("master_link_status:up"))
    );
  }

  /** The live primaries, in port order. */
  async primaries(): Promise<ClusterNode[]> {
    return (await this.topology())
      .filter((node) => node.role === "primary" && !node.failing && this.servers.get(node.port)?.running)
      .sort((a, b) => a.port - b.port);
  }

  /** The port of the primary that holds `key` (its hash slot). */
  async primaryOf(key: string): Promise<number> {
    const slot = Number(await this.askLive("CLUSTER", "KEYSLOT", key));
    const owner = (await this.primaries()).find((node) =>
      node.slots.some(([first, last]) => slot >= first && slot <= last),
    );
    if (!owner) throw new Error(`no live primary serves the slot of ${key}`);
    return owner.port;
  }

  /** SIGKILLs the primary on `port` and waits until its replica has taken over and every slot is served
   * again. The killed node stays down until restart(). With `unreplicatedMs`, the primary first goes on
   * alone for that long: its replicas are frozen (SIGSTOP) and their links closed, so every write it
   * acknowledges meanwhile never reaches them, and is lost when it dies, as asynchronous replication
   * allows (a replica that lags when its primary crashes); `meanwhile` runs in that time. */
  async killPrimary(
    port: number,
    { unreplicatedMs = 0, meanwhile }: { unreplicatedMs?: number; meanwhile?: () => Promise<unknown> } = {},
  ): Promise<Failover> {
    const before = await this.topology();
    const victim = before.find((node) => node.port === port && node.role === "primary");
    if (!victim) throw new Error(`${port} is no live primary`);
    const replicas = before.filter((node) => node.primaryId === victim.id).map((node) => node.port);
    const frozen = unreplicatedMs > 0 ? replicas.map((replica) => this.servers.get(replica)) : [];
    for (const replica of frozen) replica?.signal("SIGSTOP");
    if (unreplicatedMs > 0) {
      // The primary drops the links with what it had not sent yet; a frozen replica cannot ask again.
      await ask(victim.port, "CLIENT", "KILL", "TYPE", "replica");
      await Promise.all([sleep(unreplicatedMs), meanwhile?.()]);
    }
    const started = performance.now();
    await this.servers.get(victim.port)?.kill();
    for (const replica of frozen) replica?.signal("SIGCONT");
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const now = await this.topology().catch(() => []);
      const promoted = now.find((node) => replicas.includes(node.port) && node.role === "primary");
      if (promoted) {
        await this.untilHealthy(this.ports.filter((port) => this.servers.get(port)?.running));
        return { killed: victim.port, promoted: promoted.port, ms: Math.round(performance.now() - started) };
      }
      if (Date.now() > deadline)
        throw new Error(`no replica of ${victim.port} took over within ${READY_TIMEOUT_MS} ms`);
      await sleep(50);
    }
  }

  /** Starts a killed node again from its append-only file and cluster config: it rejoins, as a replica
   * of whoever took over its slots, and copies its data. Waits until the cluster is healthy with it. */
  async restart(port: number): Promise<void> {
    const server = this.servers.get(port);
    if (!server) throw new Error(`${port} is no node of this cluster`);
    if (!server.running) await server.start();
    await this.untilHealthy(this.ports);
  }

  /** Every node's pid, for CPU accounting. */
  async pids(): Promise<number[]> {
    const infos = await Promise.all(this.ports.map((port) => ask(port, "INFO", "server")));
    return infos.map((info) => Number(info?.match(/process_id:(\d+)/)?.[1] ?? 0)).filter((pid) => pid > 0);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.servers.values()].map((server) => server.kill()));
  }
}
