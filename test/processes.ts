// Child processes for crash tests: a real worker process, and stores of a test file's own (a private
// redis-server from tools/lib/private-redis.ts that a test may stop and start without disturbing anyone
// else's, and a database of its own).
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import getPort from "get-port";
import { afterAll, onTestFinished } from "vitest";
import { migrate } from "../scripts/migrate";
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

/** A database of the calling file's own (the test database's name + `_${name}`, migrated), with the
 * environment pointing at it and at a Redis prefix of its own. Import anything of server/ only after. */
export async function privateDatabase(name: string): Promise<void> {
  const database = new URL(
    process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/storefront_test",
  );
  database.pathname = `${database.pathname}_${name}`;
  Object.assign(process.env, {
    DATABASE_URL: database.toString(),
    REDIS_PREFIX: `storefront-${name.replaceAll("_", "-")}-${randomUUID().slice(0, 8)}`,
  });
  await migrate(database.toString());
}

/** A private redis-server (started) and a database of the calling file's own (privateDatabase), with
 * the environment pointing at both: for tests that lose Redis's data, or count everything in their
 * database. Import anything of server/ only after this. */
export async function privateStores(name: string): Promise<PrivateRedis> {
  const redisServer = new PrivateRedis(await getPort());
  await redisServer.start();
  process.env.REDIS_URL = redisServer.url;
  await privateDatabase(name);
  return redisServer;
}
