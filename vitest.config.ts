// Integration tests (test/**/*.test.ts) against real PostgreSQL and Redis, one file at a time.
// test/cluster/ runs on its own, after the production build (vitest.cluster.config.ts).
import { fileURLToPath } from "node:url";
import { configDefaults, defineConfig } from "vitest/config";

const testEnv = {
  DATABASE_URL: process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/storefront_test",
  REDIS_PREFIX: process.env.TEST_REDIS_PREFIX ?? "storefront-test",
  NODE_ENV: "test" as const,
  // Quiet: a test that reads a process's log lines asks for them itself.
  LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
};

// `test.env` only reaches the test workers; the global setup (which migrates the test database)
// and anything it spawns run in this process, so they get the same values here.
Object.assign(process.env, testEnv);

export const integration = defineConfig({
  resolve: {
    alias: [{ find: /^@\//, replacement: fileURLToPath(new URL("./", import.meta.url)) }],
  },
  test: {
    environment: "node",
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, "test/cluster/**"],
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: testEnv,
    globalSetup: ["test/global-setup.ts"],
  },
});

export default integration;
