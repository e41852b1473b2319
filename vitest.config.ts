// Integration tests (test/**/*.test.ts) against real PostgreSQL and Redis, files in parallel: each
// file has a database and a Redis prefix of its own (test/file-setup.ts, test/file-stores.ts), copied
// from the template the global setup migrates. test/cluster/ runs on its own, after the production
// build (vitest.cluster.config.ts).
import { fileURLToPath } from "node:url";
import { configDefaults, defineConfig } from "vitest/config";
import { testDatabaseUrl, testRedisPrefix } from "./test/stores";

const testEnv = {
  // The template's; each file's worker points both at its own (test/file-setup.ts).
  DATABASE_URL: testDatabaseUrl,
  REDIS_PREFIX: testRedisPrefix,
  NODE_ENV: "test" as const,
  // This run, in the names of its files' stores (test/file-stores.ts).
  TEST_RUN: process.env.TEST_RUN ?? String(process.pid),
  // Quiet: a test that reads a process's log lines asks for them itself.
  LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
};

// `test.env` only reaches the test workers; the global setup and anything it spawns run in this
// process, so they get the same values here.
Object.assign(process.env, testEnv);

/** Files at once. On a 2-core machine (issue 22, a shared box, load average 13–18) the suite took
 * 624 s one file at a time (before the per-file stores), 338 s with 2 workers and 312 s with 3: most
 * of a test's time is spent waiting (latencies, timers, child processes), not on a core. */
const WORKERS = 3;

export const integration = defineConfig({
  resolve: {
    alias: [{ find: /^@\//, replacement: fileURLToPath(new URL("./", import.meta.url)) }],
  },
  test: {
    environment: "node",
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, "test/cluster/**"],
    maxWorkers: Number(process.env.TEST_WORKERS ?? WORKERS),
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: testEnv,
    globalSetup: ["test/global-setup.ts"],
    setupFiles: ["test/file-setup.ts"],
  },
});

export default integration;
