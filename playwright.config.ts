// Browser tests against the production server (web + worker), started once for the whole run.
// `npm test` builds first (scripts/test.sh); this config never builds.
//
// E2E_WORKERS workers (2 by default) run spec files side by side, each against a shop of its own: its own
// web + worker processes, database and Redis prefix (test/stores.ts), because a story changes settings that
// are the whole shop's (the mode, the providers' latencies and faults, a paused queue). Playwright loads
// this file again in every worker process, with TEST_PARALLEL_INDEX set, so `e2eShopHere` is that worker's.
import { existsSync } from "node:fs";
import { defineConfig, devices } from "@playwright/test";
import { e2eShop, e2eShopHere, e2eWorkers } from "./test/stores";

// Test files import server code, so they reach their shop's database and Redis prefix too.
process.env.DATABASE_URL = e2eShopHere.databaseUrl;
process.env.REDIS_PREFIX = e2eShopHere.redisPrefix;
const shops = Array.from({ length: e2eWorkers }, (_, slot) => e2eShop(slot));

// CHROMIUM_PATH, else Debian's chromium, else Playwright's own browser (`npx playwright install chromium`).
const executablePath =
  process.env.CHROMIUM_PATH || (existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined);

export default defineConfig({
  testDir: "e2e",
  fullyParallel: false, // a file's stories run in order, in one worker
  workers: e2eWorkers,
  retries: 0,
  reporter: "list",
  timeout: 60_000,
  forbidOnly: Boolean(process.env.CI),
  use: {
    baseURL: `http://127.0.0.1:${e2eShopHere.port}`,
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath,
          args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
          ],
        },
      },
    },
  ],
  webServer: shops.map((shop) => ({
    command: "npm run db:migrate && npm start",
    env: {
      PORT: String(shop.port),
      DATABASE_URL: shop.databaseUrl,
      REDIS_PREFIX: shop.redisPrefix,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      // A free port for the worker's metrics: the shop itself (`npm start`) may hold the default one.
      WORKER_METRICS_PORT: "0",
    },
    url: `http://127.0.0.1:${shop.port}/api/health`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe" as const,
    stderr: "pipe" as const,
    // Let web + worker shut down cleanly (close queues, quit Redis) before Playwright kills them.
    gracefulShutdown: { signal: "SIGTERM" as const, timeout: 10_000 },
  })),
});
