// Starts and stops a cluster on this machine: N web processes (server/main.ts, each on a port of its
// own), M worker processes (workers/index.ts, metrics on free ports) and nginx in front of the web
// processes. They share nothing but Postgres and Redis (DATABASE_URL, REDIS_URL, REDIS_PREFIX of the
// environment), exactly as they would on many machines. Every line a process prints is prefixed with
// its name. A process that dies is reported, not restarted; the cluster stops itself when nginx, every
// web process or every worker process is gone.
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isLoopback } from "../../server/config";
import { type Program, Supervisor } from "../lib/supervisor";
import { nginxArgs, writeNginxConfig } from "./nginx";
import { type ClusterPlan, webPorts } from "./plan";

export type Role = "web" | "worker" | "nginx";

export interface Member {
  /** "web1", "worker2", "nginx". */
  name: string;
  role: Role;
  program: Program;
  pid: number;
  /** Web processes and nginx: where they listen. */
  url: string | null;
}

export interface Cluster {
  /** nginx's address: the shop. */
  url: string;
  members: Member[];
  /** Resolves when the cluster has stopped by itself (a member it cannot do without died). */
  stopped: Promise<string>;
  /** Stops every process (nginx first, then web and workers, politely, then SIGKILL after a grace). */
  stop: () => Promise<void>;
}

export class ClusterStartError extends Error {
  override name = "ClusterStartError";
}

/** How long each process gets to become ready. */
const READY_TIMEOUT_MS = 90_000;
/** How long a process gets between SIGTERM and SIGKILL (a web process finishes requests in flight). */
const STOP_GRACE_MS = 15_000;

type Say = (line: string) => void;

/** A web process's environment in this cluster: on loopback, behind nginx. With nginx off loopback the
 * shop is reached through a proxy, so it believes the proxy's headers and, being reachable from the
 * network, insists on DEV_TOOLS_KEY (see server/config.ts: the CLI checks that before starting). */
export function webEnv(plan: ClusterPlan, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, HOST: "127.0.0.1", ...(isLoopback(plan.host) ? {} : { TRUST_PROXY: "on" }) };
}

/** GET `url` until it answers 200, while `alive()` holds. */
async function waitForHealth(url: string, alive: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (!alive()) throw new ClusterStartError(`${what} exited before it was ready`);
    const status = await new Promise<number>((resolve) => {
      // A connection of its own, closed after the answer (no keep-alive socket left on the process).
      const request = http.get(url, { timeout: 2000, agent: false }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on("error", () => resolve(0));
      request.on("timeout", () => request.destroy());
    });
    if (status === 200) return;
    if (Date.now() > deadline) throw new ClusterStartError(`${what} not ready after ${READY_TIMEOUT_MS} ms`);
    await sleep(200);
  }
}

export async function startCluster(
  plan: ClusterPlan,
  options: { nginxPath: string; env?: NodeJS.ProcessEnv; say?: Say; output?: Say },
): Promise<Cluster> {
  const say = options.say ?? ((line: string) => console.info(`cluster: ${line}`));
  const output = options.output ?? ((line: string) => process.stdout.write(`${line}\n`));
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, ...options.env, NODE_ENV: "production" };
  const members: Member[] = [];
  let stopping = false;
  let stopReason: (reason: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => {
    stopReason = resolve;
  });
  // A cluster serves until it is stopped: no overall limit (each process gets READY_TIMEOUT_MS to come
  // up). A process that dies is reported; the cluster stops itself when it cannot do without it.
  const supervisor = new Supervisor("cluster", {
    limitMs: null,
    handleSignals: false,
    onExit: (program, how) => {
      const member = members.find((candidate) => candidate.program === program);
      if (stopping || !member) return;
      say(`${member.name} (pid ${member.pid}) ${how}`);
      const left = members.filter((other) => other.role === member.role && other.program.alive).length;
      const lost = member.role === "nginx" ? "nginx" : left === 0 ? `every ${member.role} process` : null;
      if (lost) void stop().then(() => stopReason(`${lost} stopped`));
      else say(`${left} ${member.role} process(es) left; the others carry on`);
    },
  });

  const dir = await mkdtemp(path.join(tmpdir(), "storefront-cluster-"));
  await mkdir(path.join(dir, "temp"));

  function launch(
    name: string,
    role: Role,
    { argv, env, url }: { argv: [string, ...string[]]; env: NodeJS.ProcessEnv; url?: string },
  ): Member {
    const program = supervisor.start({
      name,
      argv,
      env,
      output: { lines: (line) => output(`${name.padEnd(8)}| ${line}`) },
    });
    if (!program.pid) throw new ClusterStartError(`could not start ${name} (${argv[0]})`);
    const member: Member = { name, role, program, pid: program.pid, url: url ?? null };
    members.push(member);
    say(`${name} pid ${member.pid}${url ? ` on ${url}` : ""}`);
    return member;
  }

  let stoppedAll: Promise<void> | null = null;
  function stop(): Promise<void> {
    stopping = true;
    // nginx first: no new requests, and every socket it carried closes now rather than mid-shutdown.
    stoppedAll ??= supervisor
      .stopAll(
        members.filter((member) => member.role === "nginx").map((member) => member.program),
        STOP_GRACE_MS,
      )
      .then(() => rm(dir, { recursive: true, force: true }));
    return stoppedAll;
  }

  try {
    const ports = webPorts(plan);
    const tsx = (entry: string): { argv: [string, ...string[]] } => ({
      argv: [process.execPath, "--import", "tsx", entry],
    });
    const web = ports.map((port, index) => {
      const env = { ...webEnv(plan, baseEnv), PORT: String(port) };
      return launch(`web${index + 1}`, "web", {
        ...tsx("server/main.ts"),
        env,
        url: `http://127.0.0.1:${port}`,
      });
    });
    for (let index = 0; index < plan.workers; index++) {
      // Several workers on one machine: each takes a free port for its metrics (and lists it in Redis).
      const env = { ...baseEnv, WORKER_METRICS_PORT: "0" };
      launch(`worker${index + 1}`, "worker", { ...tsx("workers/index.ts"), env });
    }
    await Promise.all(
      web.map((member) => waitForHealth(`${member.url}/api/health`, () => member.program.alive, member.name)),
    );

    const host = plan.host.includes(":") ? `[${plan.host}]` : plan.host;
    const url = `http://${host}:${plan.port}`;
    const configFile = await writeNginxConfig({ dir, host: plan.host, port: plan.port, webPorts: ports });
    const nginx = launch("nginx", "nginx", {
      argv: [options.nginxPath, ...nginxArgs(dir, configFile)],
      env: baseEnv,
      url,
    });
    // Through nginx itself: on a wildcard address, by loopback.
    const reach = plan.host === "0.0.0.0" || plan.host === "::" ? "127.0.0.1" : host;
    try {
      await waitForHealth(`http://${reach}:${plan.port}/api/health`, () => nginx.program.alive, "nginx");
    } catch (error) {
      const log = await readFile(path.join(dir, "error.log"), "utf8").catch(() => "");
      throw new ClusterStartError(
        `${error instanceof Error ? error.message : String(error)}${log ? `:\n${log.trim()}` : ""}`,
      );
    }
    return { url, members, stopped, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
