// A real nginx for the tests, run as tools/cluster runs it: a configuration written into a state
// directory of its own, in the foreground, as the current user. Found, or installed, by
// scripts/ensure-nginx.sh (the path is its last line of output).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { vi } from "vitest";
import { nginxArgs } from "../tools/cluster/nginx";
import { exitOf } from "./processes";

export interface RunningNginx {
  dir: string;
  child: ChildProcess;
  stop: () => Promise<void>;
}

function nginxPath(): string {
  const output = execFileSync("bash", ["scripts/ensure-nginx.sh"], { stdio: ["ignore", "pipe", "inherit"] });
  return output.toString().trim().split("\n").at(-1) ?? "";
}

/** One HTTP answer's status from `url` on a connection of its own, or 0 when nothing answered. */
function statusOf(url: string): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("error", () => resolve(0));
    request.on("timeout", () => request.destroy());
  });
}

/** Starts nginx with the configuration `configFor(dir)` returns, and waits until `readyUrl` answers. */
export async function startNginx(
  configFor: (dir: string) => string,
  readyUrl: string,
): Promise<RunningNginx> {
  const dir = await mkdtemp(path.join(tmpdir(), "storefront-test-nginx-"));
  await mkdir(path.join(dir, "temp"));
  const file = path.join(dir, "nginx.conf");
  await writeFile(file, configFor(dir));
  const child = spawn(nginxPath(), nginxArgs(dir, file), { stdio: ["ignore", "ignore", "pipe"] });
  let errors = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const exited = exitOf(child);
  const answering = vi.waitFor(
    async () => {
      if ((await statusOf(readyUrl)) === 0) throw new Error(`${readyUrl} does not answer`);
    },
    { timeout: 20_000, interval: 100 },
  );
  const gone = exited.then(() => {
    throw new Error("nginx exited");
  });
  await Promise.race([answering, gone]).catch((error: unknown) => {
    throw new Error(`nginx did not start (${error instanceof Error ? error.message : error}): ${errors}`);
  });
  return {
    dir,
    child,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
