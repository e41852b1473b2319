// The faults the chaos soak injects, each a name and a run that says what happened: kill and restart a
// worker or web process, pause and resume a queue, restart Redis keeping its append-only file or losing
// everything, kill a Redis Cluster primary (with or without writes its replica never got), crash
// Postgres. tools/chaos/schedule.ts decides when.
import { queuePrefixFor } from "../../server/redis-target";
import type { PrivatePostgres } from "../lib/private-postgres";
import type { PrivateRedis } from "../lib/private-redis";
import type { PrivateRedisCluster } from "../lib/private-redis-cluster";
import type { PlannedFault } from "./schedule";
import { CHAOS_PREFIX, devCall, LOSSY_QUEUE, PAUSED_QUEUE, type Service, UNREPLICATED_MS } from "./soak";

export interface Fault {
  /** When, as a fraction of the load's length. */
  at: number;
  name: string;
  run: () => Promise<string>;
}

export interface Injected {
  atS: number;
  name: string;
  outcome: string;
}

const elapsed = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** What the faults act on. */
export interface SoakParts {
  webs: Service[];
  workers: Service[];
  postgres: PrivatePostgres;
  cluster: PrivateRedisCluster | null;
  redisServer: PrivateRedis | null;
  /** The port of a web process alive now, for developer-tools calls. */
  adminPort: () => number;
  /** Sets the soak's knobs again (after Redis lost them). */
  applyKnobs: () => Promise<void>;
}

export function faultActions({
  webs,
  workers,
  postgres,
  cluster,
  redisServer,
  adminPort,
  applyKnobs,
}: SoakParts) {
  const oneRedis = () => {
    if (!redisServer) throw new Error("this fault needs the one redis-server (no --redis-cluster)");
    return redisServer;
  };
  const oneCluster = () => {
    if (!cluster) throw new Error("this fault needs --redis-cluster");
    return cluster;
  };
  /** SIGKILLs a primary (after `unreplicatedMs` of writes its replica never got, if any), waits for its
   * replica to take over, starts it again as a replica. */
  const killPrimary = async (port: number, unreplicatedMs: number, meanwhile?: () => Promise<unknown>) => {
    const failover = await oneCluster().killPrimary(port, { unreplicatedMs, meanwhile });
    const back = Date.now();
    await oneCluster().restart(failover.killed);
    // Writes the dead primary had not passed on are gone: the knobs may be among them.
    await applyKnobs();
    return (
      (unreplicatedMs > 0 ? `${unreplicatedMs} ms of writes its replica never got, ` : "") +
      `SIGKILL ${failover.killed}, replica ${failover.promoted} took over in ${(failover.ms / 1000).toFixed(1)} s; ` +
      `back as a replica after ${elapsed(back)}; knobs set again`
    );
  };
  const restart = async (service: Service | undefined) => {
    if (!service) throw new Error("no such process");
    await service.crash();
    const back = Date.now();
    await service.start();
    return `SIGKILL, restarted, serving again after ${elapsed(back)}`;
  };
  const inject: Record<
    PlannedFault["kind"],
    (target: number) => { name: string; run: () => Promise<string> }
  > = {
    "worker-kill": (target) => ({ name: `kill worker-${target}`, run: () => restart(workers[target - 1]) }),
    "web-kill": (target) => ({ name: `kill web-${target}`, run: () => restart(webs[target - 1]) }),
    "queue-pause": () => ({
      name: `pause queue ${PAUSED_QUEUE}`,
      run: async () => {
        await devCall(adminPort(), "dev.pauseQueue", { queue: PAUSED_QUEUE });
        return "paused (dev.pauseQueue)";
      },
    }),
    "queue-resume": () => ({
      name: `resume queue ${PAUSED_QUEUE}`,
      run: async () => {
        await devCall(adminPort(), "dev.resumeQueue", { queue: PAUSED_QUEUE });
        return "resumed (dev.resumeQueue)";
      },
    }),
    "redis-kill": () => ({
      name: "restart Redis, keeping its AOF",
      run: async () => {
        await oneRedis().kill();
        const back = Date.now();
        await oneRedis().start();
        return `SIGKILL, restarted from its append-only file in ${elapsed(back)}`;
      },
    }),
    "redis-primary-kill": (target) => ({
      name: "kill a Redis Cluster primary",
      run: async () => {
        // The primaries change with every failover: take the target-th of those alive now.
        const primaries = await oneCluster().primaries();
        const victim = primaries[(target - 1) % primaries.length];
        if (!victim) throw new Error("no live primary");
        return killPrimary(victim.port, 0);
      },
    }),
    "redis-primary-lose": () => ({
      name: `lose writes of the ${LOSSY_QUEUE} queue's primary`,
      run: async () => {
        // Every order's first side effect. With fast providers its jobs run at once (a lost record of a
        // job that ran is healed by the step's claim, not by a re-drive); paused for the window, the
        // jobs it takes wait there, as a backlog does in a rush, and are lost with the primary (so is
        // the pause itself; the resume after it is for a pause that survived).
        const key = `${queuePrefixFor({ kind: "cluster" }, CHAOS_PREFIX, LOSSY_QUEUE)}:${LOSSY_QUEUE}:wait`;
        const outcome = await killPrimary(await oneCluster().primaryOf(key), UNREPLICATED_MS, () =>
          devCall(adminPort(), "dev.pauseQueue", { queue: LOSSY_QUEUE }),
        );
        await devCall(adminPort(), "dev.resumeQueue", { queue: LOSSY_QUEUE });
        return `${outcome}; the ${LOSSY_QUEUE} queue paused during those writes`;
      },
    }),
    "pg-crash": () => ({
      name: "crash Postgres",
      run: async () => {
        const back = Date.now();
        await postgres.crash();
        return `pg_ctl stop -m immediate, started again (crash recovery) in ${elapsed(back)}`;
      },
    }),
    "redis-lose": () => ({
      name: "restart Redis, losing everything",
      run: async () => {
        await oneRedis().kill();
        oneRedis().forget();
        const back = Date.now();
        await oneRedis().start();
        // The knobs lived in Redis as well: the soak's are set again (the shop's defaults are slower).
        await applyKnobs();
        return `SIGKILL, append-only file deleted, empty again in ${elapsed(back)}; knobs set again`;
      },
    }),
  };
  return inject;
}
