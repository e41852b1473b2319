// What the chaos soak runs and how it talks to it: the shop's settings for a soak, its services (web,
// worker and nginx processes under the tools' supervisor, each logging to a file and polled until it
// serves), the load processes (`npm run load -- --json`, one per checkout mode) and the invariant
// checker, and the developer-tools calls it makes on the shop.
import * as fs from "node:fs";
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import {
  type CheckoutMode,
  type LoadSummaryEvent,
  loadEventSchema,
  type SettingsPatch,
  type SideEffectStep,
} from "../../server/contract";
import type { Program, Supervisor } from "../lib/supervisor";
import { callProcedure, keepAliveAgent } from "../load/http";

/** Fast enough that a short soak places hundreds of orders, slow and flaky enough that side effects
 * overlap the faults, retry, and sometimes fail a synchronous checkout (compensated). */
export const SOAK_SERVICES: SettingsPatch["services"] = {
  inventory: { latencyMs: 10, jitterMs: 5, failureRate: 0, down: false, capacity: 50 },
  payment: { latencyMs: 30, jitterMs: 15, failureRate: 0.02, down: false, capacity: 50 },
  fraud: { latencyMs: 40, jitterMs: 20, failureRate: 0.03, down: false, capacity: 50 },
  email: { latencyMs: 60, jitterMs: 30, failureRate: 0.03, down: false, capacity: 50 },
  analytics: { latencyMs: 10, jitterMs: 5, failureRate: 0.03, down: false, capacity: 50 },
  shipping: { latencyMs: 80, jitterMs: 40, failureRate: 0.03, down: false, capacity: 50 },
};

/** Shoppers per mode (closed loop, 250 ms pause); async ones watch their order over socket.io. */
export const SHOPPERS: Record<CheckoutMode, number> = { async: 4, sync: 2, "sync-parallel": 2 };
/** The share of orders from a fraudster: cancelled by screening, their authorization voided. */
export const FRAUD_SHARE = "10%";
/** The share of confirmations whose answer the web processes lose after the commit (CHAOS_LOST_ANSWERS). */
export const LOST_ANSWERS = 0.05;
/** The soak's Redis namespace. */
export const CHAOS_PREFIX = "storefront-chaos";
/** redis-primary-lose: the queue whose primary dies, and how long it acknowledges writes alone first. */
export const LOSSY_QUEUE: SideEffectStep = "fraud";
export const UNREPLICATED_MS = 500;
/** How long after its duration a load process may take to end: its answers in flight (30 s), then the
 * orders it follows to done (at most 120 s: tools/load/runner.ts), and some room. */
export const LOAD_END_GRACE_MS = 180_000;
/** The queue the schedule pauses. */
export const PAUSED_QUEUE: SideEffectStep = "email";
/** Far more than a soak sells: stock never runs out, so every shopper keeps buying. */
export const SOAK_STOCK = 1_000_000;

/** The soak's settings for every web and worker process: faults are healed within seconds. */
export const SOAK_TIMING = {
  /** An unfinished checkout is swept after this (the default 10 min would outlast the soak). */
  SWEEPER_GRACE_MS: "10000",
  /** A checkout is cut off after this, so that the grace above outlasts every one (server/config.ts). */
  CHECKOUT_DEADLINE_MS: "4000",
  RECONCILE_EVERY_MS: "2000",
  /** A killed worker's jobs are retried within about three times this. */
  WORKER_LOCK_MS: "3000",
};

/** A web, worker or nginx process of the soak: a supervised program, its output appended to a log file. */
export class Service {
  private readonly program: Program;

  constructor(
    private readonly supervisor: Supervisor,
    readonly name: string,
    /** The program and its arguments. */
    argv: readonly [string, ...string[]],
    env: NodeJS.ProcessEnv,
    readonly log: string,
    /** Whether the process serves yet, given where its log stood at start (polled until true, 90 s at most). */
    private readonly ready: (logFrom: number) => Promise<boolean>,
  ) {
    this.program = supervisor.program({ name, argv, env, output: { file: log } });
  }

  async start(): Promise<void> {
    const logFrom = fs.existsSync(this.log) ? fs.statSync(this.log).size : 0;
    this.program.start();
    const deadline = Date.now() + 90_000;
    while (!(await this.ready(logFrom))) {
      if (!this.alive) throw new Error(`${this.name} exited at start (see ${this.log})`);
      if (Date.now() > deadline) throw new Error(`${this.name} was not ready within 90 s (see ${this.log})`);
      await this.supervisor.pause(200);
    }
  }

  get alive(): boolean {
    return this.program.alive;
  }

  /** SIGKILL to the whole group: no goodbye, no drain, as a crashed machine. */
  crash(): Promise<void> {
    return this.program.crash();
  }

  /** SIGTERM (the process drains), SIGKILL after 15 s. */
  stop(): Promise<void> {
    return this.program.stop(15_000);
  }
}

/** A TypeScript program of the project's, run as the shop's own scripts run it. */
export function nodeProgram(entry: string, ...args: string[]): [string, ...string[]] {
  return [process.execPath, "--import", "tsx", entry, ...args];
}

/** GET /api/health answers 200. */
export function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ host: "127.0.0.1", port, path: "/api/health", timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    request.on("error", () => resolve(false));
    request.on("timeout", () => request.destroy());
  });
}

/** The worker printed its start line since `from`. */
export function logSays(file: string, from: number, text: string): boolean {
  if (!fs.existsSync(file)) return false;
  const fd = fs.openSync(file, "r");
  try {
    const length = fs.fstatSync(fd).size - from;
    if (length <= 0) return false;
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, from);
    return buffer.toString("utf8").includes(text);
  } finally {
    fs.closeSync(fd);
  }
}

/** How long a developer-tools change is retried while the shop answers 503 (Redis still coming back:
 * the web process refuses such a change at once rather than wait). */
const DEV_CALL_RETRY_MS = 20_000;

/** One tRPC mutation of the developer tools on a web process, retried as an operator would while the
 * shop says it is unavailable. */
export async function devCall(port: number, procedure: string, input: unknown): Promise<void> {
  const target = `http://127.0.0.1:${port}`;
  const agent = keepAliveAgent(target, 1);
  const giveUpAt = Date.now() + DEV_CALL_RETRY_MS;
  try {
    for (;;) {
      const reply = await callProcedure(target, procedure, {
        agent,
        kind: "mutation",
        input,
        timeoutMs: 10_000,
      });
      if (reply.status === 200) return;
      if (reply.status !== 503 || Date.now() > giveUpAt)
        throw new Error(`${procedure}: HTTP ${reply.status} ${reply.body.slice(0, 200)}`);
      await sleep(250);
    }
  } finally {
    agent.destroy();
  }
}

/** A load process for one mode (its exit is how it ends, not a reason to give up); resolves its
 * summary when it ends. */
export function startLoad(
  supervisor: Supervisor,
  mode: CheckoutMode,
  target: string,
  durationMs: number,
  env: NodeJS.ProcessEnv,
  log: string,
): { program: Program; summary: Promise<LoadSummaryEvent | null> } {
  const flags = ["--shoppers", `${SHOPPERS[mode]}`, "--pause", "250ms", "--duration", `${durationMs}ms`];
  // Some fraudsters, so cancellations and their compensation run under the faults too.
  flags.push("--fraud", FRAUD_SHARE);
  if (mode === "async") flags.push("--watch");
  let last: LoadSummaryEvent | null = null;
  const program = supervisor.start({
    name: `load-${mode}`,
    argv: nodeProgram("tools/load/main.ts", ...flags, "--mode", mode, "--target", target, "--json"),
    env,
    essential: false,
    output: {
      lines: (line) => {
        fs.appendFileSync(log, `${line}\n`);
        if (!line.startsWith("{")) return;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          return; // Not one of its JSON lines (its stderr shares the pipe).
        }
        const parsed = loadEventSchema.safeParse(value);
        if (parsed.success && parsed.data.type === "summary") last = parsed.data;
      },
    },
  });
  // "close", not "exit": the last lines (the summary) may still be in the pipe when it exits.
  const summary = new Promise<LoadSummaryEvent | null>((resolve) =>
    program.child?.on("close", () => resolve(last)),
  );
  return { program, summary };
}

export async function setStock(databaseUrl: string, stock: number): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`UPDATE "Product" SET "stock" = $1`, [stock]);
  } finally {
    await client.end();
  }
}

/** `npm run check:invariants` against the soak's database, its table on our stdout; its exit code. */
export async function runChecker(
  supervisor: Supervisor,
  env: NodeJS.ProcessEnv,
  baseline: string,
  settleS: number,
): Promise<number> {
  const checker = supervisor.start({
    name: "check:invariants",
    argv: nodeProgram(
      "tools/invariants/main.ts",
      "--baseline",
      baseline,
      "--jobs",
      "--settle-wait",
      `${settleS}`,
    ),
    env,
    output: "inherit",
    essential: false,
  });
  const { code } = await supervisor.until(checker.exit());
  return code ?? 1;
}
