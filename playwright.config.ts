// Browser tests against the production server (web + worker), started once for the whole run.
// `npm test` builds first (scripts/test.sh); this config never builds.
import { existsSync } from "node:fs";
import { defineConfig, devices } from "@playwright/test";
import { e2eDatabaseUrl, e2eRedisPrefix } from "./test/stores";

const port = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;
// A database of its own: the integration tests' leftover outbox rows must not reach this server's
// relay (nor this server's relay take theirs). Test files import server code, so they get it too.
const databaseUrl = e2eDatabaseUrl;
process.env.DATABASE_URL = databaseUrl;
const redisPrefix = e2eRedisPrefix;
process.env.REDIS_PREFIX = redisPrefix;

// CHROMIUM_PATH, else Debian's chromium, else Playwright's own browser (`npx playwright install chromium`).
const executablePath =
  process.env.CHROMIUM_PATH || (existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined);

export default defineConfig({
  testDir: "e2e",
  fullyParallel: false,
  workers: 1, // the tests share one server and one database
  retries: 0,
  reporter: "list",
  timeout: 60_000,
  forbidOnly: Boolean(process.env.CI),
  use: {
    baseURL,
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
  webServer: {
    command: "npm run db:migrate && npm start",
    env: {
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      REDIS_PREFIX: redisPrefix,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      // A free port for the worker's metrics: the shop itself (`npm start`) may hold the default one.
      WORKER_METRICS_PORT: "0",
    },
    url: `${baseURL}/api/health`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
    // Let web + worker shut down cleanly (close queues, quit Redis) before Playwright kills them.
    gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
  },
});
