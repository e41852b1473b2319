// Child processes for crash tests: a real worker process, and stores of a test file's own (a private
// redis-server from tools/lib/private-redis.ts that a test may stop and start without disturbing anyone
// else's, and a database of its own).
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import getPort from "get-port";
import { afterAll, onTestFinished } from "vitest";
import { PrivateRedis } from "../tools/lib/private-redis";

/** A worker process; its log (stdout) goes to the test's output, or to `child.stdout` with
 * `{ stdout: "pipe" }` for a test that reads it. It never outlives its caller: it is SIGKILLed when the
 * test that started it ends (or the file, if started outside a test), however the caller stopped it,
 * and it shuts itself down should this process die first (its IPC channel closes). */
export function startWorkerProcess(
  env: Record<string, string> = {},
  { stdout = "inherit" }: { stdout?: "inherit" | "pipe" } = {},
): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "workers/index.ts"], {
    // Metrics on a free port: other workers (another test run, `npm start`) may hold the default one.
    env: { ...process.env, WORKER_LOCK_MS: "3000", WORKER_METRICS_PORT: "0", ...env },
    stdio: ["ignore", stdout, "inherit", "ipc"],
  });
  // The channel is there for the child to notice this process is gone, not to keep it running.
  child.channel?.unref();
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  try {
    onTestFinished(kill);
  } catch {
    afterAll(kill);
  }
  return child;
}

export async function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return { code: child.exitCode, signal: child.signalCode };
  const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
  return { code, signal };
}

/** Waits for `work` at most `ms`: for the graceful part of a cleanup, so that what must happen after
 * it (killing a private server) happens even when it hangs, before the hook's own timeout. */
export async function atMost(ms: number, work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      console.warn(`cleanup still running after ${ms} ms; going on without it`);
      resolve();
    }, ms);
  });
  await Promise.race([work.then(() => {}), timeout]).finally(() => clearTimeout(timer));
}

/** A private redis-server (started), with the environment pointing at it: for tests that lose Redis's
 * data. (Every file already has a database of its own: test/file-stores.ts.) Import anything of
 * server/ only after this. */
export async function privateRedis(): Promise<PrivateRedis> {
  const redisServer = new PrivateRedis(await getPort());
  await redisServer.start();
  process.env.REDIS_URL = redisServer.url;
  return redisServer;
}
