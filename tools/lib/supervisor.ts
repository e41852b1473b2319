// The one process supervisor of the tools (chaos, cluster, bench:load, bench:live): every program it
// starts runs in a process group of its own, so what that program starts in turn (npm start's web and
// worker, a shell's children) is stopped with it: politely (SIGTERM to the group), then for good
// (SIGKILL) after a grace. A program that exits while the run still needs it ends the run with a
// message naming it; so do Ctrl+C, SIGTERM and the run's overall time limit. Nothing it started
// outlives this process, however this process ends.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import * as fs from "node:fs";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";

/** Where a program's output goes: appended to a file, line by line to a function, or as node's stdio. */
export type Output = { file: string } | { lines: (line: string) => void } | "inherit" | "ignore" | "pipe";

export interface ProgramSpec {
  /** "web-1", "worker", "nginx": how messages name it. */
  name: string;
  argv: readonly [string, ...string[]];
  env?: NodeJS.ProcessEnv;
  output?: Output;
  /** Whether the run ends should the program exit without being asked to (default true). A load
   * process or a one-shot command is not: its exit is how it finishes. */
  essential?: boolean;
}

/** Why a run ended before its end: a signal, its time limit, or a program it needed. */
export class GaveUp extends Error {
  override name = "GaveUp";
  constructor(
    readonly why: "signal" | "limit" | "exited",
    message: string,
  ) {
    super(message);
  }
}

const describeExit = (code: number | null, signal: NodeJS.Signals | null) =>
  signal ? `on ${signal}` : `with code ${code}`;

/** One program, started (and started again) by its supervisor. */
export class Program {
  child: ChildProcess | null = null;
  /** Set while a stop or crash asked for: its exit is then no surprise. */
  private asked = false;

  constructor(
    readonly spec: ProgramSpec,
    private readonly supervisor: Supervisor,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  get alive(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The file its output goes to, if any (for messages: "see …"). */
  get log(): string | null {
    const output = this.spec.output;
    return typeof output === "object" && "file" in output ? output.file : null;
  }

  /** Starts the program (again, after a crash or stop). */
  start(): this {
    const { argv, env, output = "inherit" } = this.spec;
    const [command, ...args] = argv;
    const file = typeof output === "object" && "file" in output ? fs.openSync(output.file, "a") : null;
    const stdio = file ?? (typeof output === "object" ? "pipe" : output);
    const child = spawn(command, args, {
      cwd: this.supervisor.cwd,
      env: env ?? process.env,
      detached: true,
      stdio: ["ignore", stdio, stdio],
    });
    if (file !== null) fs.closeSync(file);
    if (typeof output === "object" && "lines" in output) {
      for (const stream of [child.stdout, child.stderr]) {
        if (stream) createInterface({ input: stream }).on("line", output.lines);
      }
    }
    child.on("error", (error) => this.supervisor.exited(this, `could not start: ${error.message}`));
    child.on("exit", (code, signal) => {
      if (this.asked || this.child !== child) return;
      if (this.spec.essential !== false) this.supervisor.exited(this, `exited ${describeExit(code, signal)}`);
    });
    this.child = child;
    this.asked = false;
    return this;
  }

  /** Resolves with how it ended (at once if it has). */
  async exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.child;
    if (!child) return { code: null, signal: null };
    if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
    return { code: child.exitCode, signal: child.signalCode };
  }

  /** SIGKILL to the whole group: no goodbye, no drain, as a crashed machine. */
  async crash(): Promise<void> {
    await this.signal("SIGKILL", 10_000);
  }

  /** SIGTERM to the group (the program finishes what it holds), SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!(await this.signal("SIGTERM", graceMs))) await this.signal("SIGKILL", 5_000);
  }

  /** Signals the process group; whether the program exited within `ms`. */
  private async signal(signal: NodeJS.Signals, ms: number): Promise<boolean> {
    const child = this.child;
    if (!child?.pid) return true;
    this.asked = true;
    // The group may outlive its leader (a shell's background child): it is signalled all the same.
    if (!this.alive) {
      killGroup(child.pid, "SIGKILL");
      return true;
    }
    killGroup(child.pid, signal);
    return Promise.race([once(child, "exit").then(() => true), sleep(ms, false)]);
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Gone already.
  }
}

export interface SupervisorOptions {
  /** The run's overall time limit: past it the run gives up. Null only for a program that serves until
   * it is stopped (the cluster), whose every wait has a limit of its own. */
  limitMs: number | null;
  /** Whether Ctrl+C and SIGTERM end the run (default true); false when the command handles them. */
  handleSignals?: boolean;
  cwd?: string;
  /** What to do when an essential program exits unasked (default: give up, naming it). */
  onExit?: (program: Program, how: string) => void;
}

export class Supervisor {
  private readonly controller = new AbortController();
  private readonly programs: Program[] = [];
  private readonly limit: NodeJS.Timeout | undefined;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    if (this.signal.aborted) {
      this.say("still stopping everything, please wait");
      return;
    }
    this.giveUp(new GaveUp("signal", `stopped by ${signal}`));
  };
  private readonly killAll = () => {
    for (const program of this.programs) if (program.pid) killGroup(program.pid, "SIGKILL");
  };
  readonly cwd: string | undefined;

  constructor(
    /** The command's name, for its messages. */
    readonly command: string,
    private readonly options: SupervisorOptions,
  ) {
    this.cwd = options.cwd;
    const { limitMs } = options;
    if (limitMs !== null) {
      this.limit = setTimeout(() => {
        this.giveUp(new GaveUp("limit", `still running after its limit of ${minutes(limitMs)}`));
      }, limitMs);
      this.limit.unref();
    }
    if (options.handleSignals !== false) {
      process.on("SIGINT", this.onSignal);
      process.on("SIGTERM", this.onSignal);
    }
    // Last resort (a crash of this process, process.exit anywhere): no program outlives it.
    process.once("exit", this.killAll);
  }

  /** Aborted when the run gives up: every wait of the run should take it. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  say(line: string): void {
    console.info(`${this.command}: ${line}`);
  }

  /** A program of the run, not started yet (see Program.start). */
  program(spec: ProgramSpec): Program {
    const program = new Program(spec, this);
    this.programs.push(program);
    return program;
  }

  /** A program of the run, started. */
  start(spec: ProgramSpec): Program {
    return this.program(spec).start();
  }

  /** `work`, or the reason the run gave up first (thrown). */
  until<T>(work: Promise<T>): Promise<T> {
    this.signal.throwIfAborted();
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(this.signal.reason);
      this.signal.addEventListener("abort", onAbort, { once: true });
      work.then(resolve, reject).finally(() => this.signal.removeEventListener("abort", onAbort));
    });
  }

  giveUp(reason: GaveUp): void {
    if (!this.signal.aborted) this.controller.abort(reason);
  }

  /** Called by a program that exited unasked. */
  exited(program: Program, how: string): void {
    if (this.signal.aborted) return;
    if (this.options.onExit) {
      this.options.onExit(program, how);
      return;
    }
    const log = program.log ? `; its last lines (${program.log}):\n${lastLines(program.log)}` : "";
    this.giveUp(new GaveUp("exited", `${program.name} (pid ${program.pid}) ${how}: giving up${log}`));
  }

  /** Waits `ms`, or throws the reason the run gave up meanwhile. */
  async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.signal });
  }

  /** Stops every program still running, group by group in the order given (the rest last), and lets
   * this process end as it likes. */
  async stopAll(first: Program[] = [], graceMs = 15_000): Promise<void> {
    const rest = this.programs.filter((program) => !first.includes(program));
    for (const group of [first, rest])
      await Promise.allSettled(group.map((program) => program.stop(graceMs)));
    clearTimeout(this.limit);
    process.off("SIGINT", this.onSignal);
    process.off("SIGTERM", this.onSignal);
  }
}

/** The end of a log file, for a message about the program that wrote it. */
function lastLines(file: string, count = 10): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-count).join("\n");
  } catch {
    return "(none)";
  }
}

const minutes = (ms: number) =>
  ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;

/** The reason a run ended, in words: the GaveUp's message, or the error's. */
export function reasonOf(signal: AbortSignal, error: unknown): string {
  const reason: unknown = signal.aborted ? signal.reason : error;
  return reason instanceof Error ? reason.message : String(reason);
}
