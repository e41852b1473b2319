// A throwaway PostgreSQL cluster of one's own (Debian's server binaries), in a directory of its own on a
// port of its own: for benchmarks and tests that load, restart or stop their database without
// disturbing the machine's shared one. As root, the tools run as user postgres (they refuse root).
import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from "node:child_process";
import * as fs from "node:fs";
import path from "node:path";

const PG_BIN = "/usr/lib/postgresql/15/bin";

export class PrivatePostgres {
  private readonly data: string;
  private running = false;

  /** `dir` must exist and be empty but for what this class puts there; `settings` go to `postgres -c`. */
  constructor(
    readonly dir: string,
    readonly port: number,
    private readonly settings: Record<string, string> = {},
  ) {
    this.data = path.join(dir, "pg");
  }

  /** Whether the binaries are here at all (callers fall back to the shared server when not). */
  static available(): boolean {
    return fs.existsSync(`${PG_BIN}/initdb`);
  }

  get log(): string {
    return path.join(this.dir, "pg.log");
  }

  url(database: string): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** initdb, then start. */
  async create(): Promise<void> {
    if (!PrivatePostgres.available()) throw new Error(`${PG_BIN}/initdb not found`);
    if (process.getuid?.() === 0) {
      const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }));
      fs.chownSync(this.dir, id("-u"), id("-g"));
    }
    await this.tool("initdb", [
      "-D",
      this.data,
      "-A",
      "trust",
      "-U",
      "postgres",
      "--no-sync",
      "--no-instructions",
    ]);
    await this.start();
  }

  async start(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      "-c listen_addresses=127.0.0.1",
      ...Object.entries(this.settings).map(([name, value]) => `-c ${name}=${value}`),
    ];
    await this.tool("pg_ctl", ["-D", this.data, "-o", options.join(" "), "-l", this.log, "-w", "start"]);
    this.running = true;
  }

  /** Like an operator's restart: every connection is cut (`-m fast`), then it accepts new ones. */
  async restart(): Promise<void> {
    await this.tool("pg_ctl", ["-D", this.data, "-m", "fast", "-w", "restart"]);
    this.running = true;
  }

  /** Like a crash: the server stops at once (`-m immediate`, no checkpoint, every connection cut), then
   * starts again, replaying its write-ahead log; what committed survives, nothing else. */
  async crash(): Promise<void> {
    await this.tool("pg_ctl", ["-D", this.data, "-m", "immediate", "-w", "stop"]);
    await this.start();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.tool("pg_ctl", ["-D", this.data, "-m", "fast", "-w", "stop"]);
  }

  /** Runs a server tool. Detached: the postmaster it leaves running is outside our process group, so a
   * Ctrl-C reaches only us (we stop it). */
  private tool(name: string, args: string[]): Promise<void> {
    const root = process.getuid?.() === 0;
    return root
      ? runQuietly("runuser", ["-u", "postgres", "--", `${PG_BIN}/${name}`, ...args], { detached: true })
      : runQuietly(`${PG_BIN}/${name}`, args, { detached: true });
  }
}

/** Runs a command to completion, showing its output only if it fails. */
export function runQuietly(
  command: string,
  args: string[],
  options: SpawnOptions & { onSpawn?: (child: ChildProcess) => void } = {},
): Promise<void> {
  return new Promise((resolve, reject) => {
    const { onSpawn, ...spawnOptions } = options;
    const child = spawn(command, args, { ...spawnOptions, stdio: ["ignore", "pipe", "pipe"] });
    onSpawn?.(child);
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk));
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(" ")} exited with ${code}:\n${output.slice(-3000)}`));
    });
  });
}
