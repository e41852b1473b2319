// Where bench:load's CPU figures come from: utime+stime+cutime+cstime from /proc over each process tree
// (web, worker, Postgres, Redis), and a fixed piece of single-threaded work that says how fast the
// cores are right now.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";

const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" })) || 100;

export type Group = "web" | "worker" | "postgres" | "redis";

export const GROUPS: Group[] = ["web", "worker", "postgres", "redis"];

interface Proc {
  ppid: number;
  ticks: number;
}

export function procTable(): Map<number, Proc> {
  const table = new Map<number, Proc>();
  for (const entry of fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // After "pid (comm) " comes field 3, so field n is at index n - 3: ppid 4, utime..cstime 14-17.
      const field = stat
        .slice(stat.lastIndexOf(")") + 2)
        .split(" ")
        .map(Number);
      const ticks = (field[11] ?? 0) + (field[12] ?? 0) + (field[13] ?? 0) + (field[14] ?? 0);
      table.set(Number(entry), { ppid: field[1] ?? 0, ticks });
    } catch {
      // It exited while we listed /proc.
    }
  }
  return table;
}

/** With --redis-cluster: the cluster's other nodes, whose CPU counts as Redis' beside roots.redis. */
export const moreRedisRoots: number[] = [];

export function cpuMs(roots: Record<Group, number>): Record<Group, number> {
  const table = procTable();
  const tree = (root: number): number =>
    (table.get(root)?.ticks ?? 0) * (1000 / CLK_TCK) +
    [...table].reduce((sum, [pid, proc]) => sum + (proc.ppid === root ? tree(pid) : 0), 0);
  // A pid we could not find stays 0, whose "children" would be the whole machine.
  const measure = (root: number) => (root > 0 ? tree(root) : Number.NaN);
  return {
    web: measure(roots.web),
    worker: measure(roots.worker),
    postgres: measure(roots.postgres),
    redis: [roots.redis, ...moreRedisRoots].reduce((sum, root) => sum + measure(root), 0),
  };
}

/** How fast this machine's cores are right now: a fixed single-threaded piece of work (hashing, and JSON
 * like an order's), the best of three, in ms. Machines of one kind differ, and a shared host's cores
 * slow down and speed up from one minute to the next (by half, seen here): figures from two runs compare
 * only as far as their reference does. */
export function referenceMs(): number {
  const order = {
    steps: Array.from({ length: 8 }, (_, i) => ({ name: `step${i}`, at: new Date(i).toISOString() })),
  };
  const block = Buffer.alloc(64 * 1024, 7);
  const once = () => {
    const start = performance.now();
    for (let i = 0; i < 400; i++) createHash("sha256").update(block).digest();
    for (let i = 0; i < 20_000; i++) JSON.parse(JSON.stringify(order));
    return performance.now() - start;
  };
  return Math.min(once(), once(), once());
}
