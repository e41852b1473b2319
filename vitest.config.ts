// Integration tests (test/**/*.test.ts) against real PostgreSQL and Redis, one file at a time.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const testEnv = {
  DATABASE_URL: process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/storefront_test",
  REDIS_PREFIX: process.env.TEST_REDIS_PREFIX ?? "storefront-test",
  NODE_ENV: "test" as const,
};

// `test.env` only reaches the test workers; the global setup (which migrates the test database)
// and anything it spawns run in this process, so they get the same values here.
Object.assign(process.env, testEnv);

export default defineConfig({
  resolve: {
    alias: [{ find: /^@\//, replacement: fileURLToPath(new URL("./", import.meta.url)) }],
  },
  test: {
    environment: "node",
    include: ["test/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    env: testEnv,
    globalSetup: ["test/global-setup.ts"],
  },
});
