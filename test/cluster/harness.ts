// The cluster command (tools/cluster/main.ts) run as a shopper's operator runs it, from the tests: a child
// process whose output names every process it started (pid, address), a free block of ports for it,
// and what the tests need to find their way around it (which web process holds a connection, whether
// a process is gone).
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { checkPorts, PlanError } from "../../tools/cluster/plan";
import { exitOf } from "../processes";

export interface Started {
  name: string;
  pid: number;
  url: string | null;
}

export interface ClusterRun {
  child: ChildProcess;
  /** Every line it printed so far (its own and its processes', prefixed with their names). */
  lines: string[];
  /** Resolves with the nginx address once the cluster said it is ready; rejects if it exits first. */
  ready: Promise<string>;
  started: () => Started[];
  /** The developer tools key the cluster made for the run and printed, if it made one. */
  devKey: () => string | null;
  exit: Promise<{ code: number | null; signal: string | null }>;
}

/** Runs `tools/cluster/main.ts args…` with the test environment (and `env` on top). */
export function runCluster(args: string[], env: Record<string, string> = {}): ClusterRun {
  const child = spawn(process.execPath, ["--import", "tsx", "tools/cluster/main.ts", ...args], {
    env: { ...process.env, WORKER_LOCK_MS: "3000", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Never outlive the test run: the cluster stops its processes when it is told to, not when killed.
  process.once("exit", () => child.kill("SIGINT"));
  const lines: string[] = [];
  const started: Started[] = [];
  let devKey: string | null = null;
  let markReady: (url: string) => void = () => {};
  const ready = new Promise<string>((resolve) => {
    markReady = resolve;
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      lines.push(line);
      const member = /^cluster: (\w+) pid (\d+)(?: on (\S+))?$/.exec(line);
      if (member?.[1] && member[2])
        started.push({ name: member[1], pid: Number(member[2]), url: member[3] ?? null });
      devKey ??= /^cluster: developer tools key for this run: (\S+) /.exec(line)?.[1] ?? null;
      const up = /^cluster: ready at (\S+) /.exec(line);
      if (up?.[1]) markReady(up[1]);
    });
  }
  const exit = exitOf(child);
  const readyOrNot = Promise.race([
    ready,
    exit.then(({ code, signal }) => {
      throw new Error(`the cluster exited (${signal ?? code}) before it was ready:\n${lines.join("\n")}`);
    }),
  ]);
  readyOrNot.catch(() => {}); // a refusal is what some tests expect; they await `exit` instead
  return { child, lines, started: () => started, devKey: () => devKey, exit, ready: readyOrNot };
}

/** A port with `count` free ports after it (nginx's and the web processes'). Not get-port's: it finds
 * single ports, and `npm run cluster` takes a run of consecutive ones, checked by its own plan's rule. */
export async function freePortBlock(count: number): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    try {
      await checkPorts({ port, web: count, workers: 1, host: "127.0.0.1" });
      return port;
    } catch (error) {
      if (!(error instanceof PlanError)) throw error;
    }
  }
}

/** Whether a process with this pid still exists (a zombie of ours counts as gone once reaped). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The established connections (IPv4, this machine) accepted on these ports, as
 * "localPort<-remotePort": the ones nginx opened to the web processes, WebSockets included.
 * Reads /proc/net/tcp (Linux). */
export function acceptedOn(ports: number[]): Set<string> {
  const connections = new Set<string>();
  const table = readFileSync("/proc/net/tcp", "utf8").trim().split("\n").slice(1);
  for (const row of table) {
    const [, local, remote, state] = row.trim().split(/\s+/);
    if (state !== "01" || !local || !remote) continue; // 01: ESTABLISHED
    const port = Number.parseInt(local.split(":")[1] ?? "", 16);
    const peer = Number.parseInt(remote.split(":")[1] ?? "", 16);
    if (ports.includes(port)) connections.add(`${port}<-${peer}`);
  }
  return connections;
}
