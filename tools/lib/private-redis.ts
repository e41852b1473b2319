// A throwaway redis-server of one's own (Debian's redis-server binary) on a port of its own: for tests
// and `npm run chaos`, which kill and restart their Redis without disturbing the machine's shared one.
// Without a directory it keeps nothing on disk (a restart loses every job); with one it keeps an
// append-only file there, as BullMQ's production guide asks (`appendfsync everysec`), and comes back
// with its jobs.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import * as fs from "node:fs";
import { Socket } from "node:net";

/** Whether Debian's redis-server is on the PATH. */
export function redisServerAvailable(): boolean {
  return (process.env.PATH ?? "")
    .split(":")
    .some((dir) => dir !== "" && fs.existsSync(`${dir}/redis-server`));
}

export class PrivateRedis {
  private child: ChildProcess | null = null;

  /** `appendOnlyDir`: keep an append-only file there (created if missing); none: nothing on disk.
   * `extraArgs`: more of redis-server's options (a cluster node's, see tools/lib/private-redis-cluster.ts).
   * `ownGroup`: in a process group of its own, so a Ctrl+C at the terminal reaches only its owner, which
   * stops it after the processes that use it. */
  constructor(
    readonly port: number,
    private readonly appendOnlyDir: string | null = null,
    private readonly extraArgs: string[] = [],
    private readonly ownGroup = false,
  ) {}

  get running(): boolean {
    return this.child !== null;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const persistence = this.appendOnlyDir
      ? ["--appendonly", "yes", "--appendfsync", "everysec", "--dir", this.appendOnlyDir]
      : ["--appendonly", "no"];
    if (this.appendOnlyDir) fs.mkdirSync(this.appendOnlyDir, { recursive: true });
    this.child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        ...persistence,
        "--maxmemory-policy",
        "noeviction",
        ...this.extraArgs,
      ],
      { stdio: "ignore", detached: this.ownGroup },
    );
    const child = this.child;
    // Never outlive the process that started it, even when its cleanup is skipped.
    process.once("exit", () => child.kill("SIGKILL"));
    const deadline = Date.now() + 10_000;
    while (!(await this.answers())) {
      if (Date.now() > deadline) throw new Error(`redis-server did not start on ${this.port}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Sends a signal to the server (SIGSTOP / SIGCONT freeze and thaw it). */
  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** Like a crash: no goodbye to connected clients (an append-only file keeps all but its last second). */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child) return;
    child.kill("SIGKILL");
    if (child.exitCode === null && child.signalCode === null) await once(child, "exit");
  }

  /** Deletes the append-only file of a stopped server: the next start comes back empty. */
  forget(): void {
    if (this.child) throw new Error("stop redis-server before deleting its data");
    if (this.appendOnlyDir) fs.rmSync(this.appendOnlyDir, { recursive: true, force: true });
  }

  private answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = new Socket();
      socket.once("error", () => resolve(false));
      socket.connect(this.port, "127.0.0.1", () => {
        socket.write("PING\r\n");
        socket.once("data", (data) => {
          socket.destroy();
          // A server loading its append-only file answers -LOADING until it is done.
          resolve(data.toString().startsWith("+PONG"));
        });
      });
    });
  }
}
