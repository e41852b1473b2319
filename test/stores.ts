// Where the tests keep their data, spelled once: the integration tests' database and Redis prefix
// (TEST_DATABASE_URL, TEST_REDIS_PREFIX) and the browser tests' (E2E_DATABASE_URL, E2E_REDIS_PREFIX),
// each defaulting to a local name of its own so that `npm test` never touches the data of `npm run shop`.
// Imported by vitest.config.ts, test/global-setup.ts, playwright.config.ts; `npx tsx test/stores.ts
// test|e2e` prints a database URL for scripts/test.sh. Nothing but node:url: the configs load it first.
import { pathToFileURL } from "node:url";

export const testDatabaseUrl =
  process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/storefront_test";
export const testRedisPrefix = process.env.TEST_REDIS_PREFIX ?? "storefront-test";

export const e2eDatabaseUrl =
  process.env.E2E_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/storefront_e2e";
export const e2eRedisPrefix = process.env.E2E_REDIS_PREFIX ?? "storefront-e2e";
const e2ePort = Number(process.env.E2E_PORT ?? 3100);

/** Browser-test workers at once (E2E_WORKERS), each with a shop of its own: see playwright.config.ts. */
export const e2eWorkers = Number(process.env.E2E_WORKERS ?? 2);

export interface E2eShop {
  databaseUrl: string;
  redisPrefix: string;
  /** The shop's port; the next one up is free for a test that starts a process of its own beside it. */
  port: number;
}

/** The shop of browser-test worker `slot` (0 is the one E2E_DATABASE_URL, E2E_REDIS_PREFIX, E2E_PORT name). */
export function e2eShop(slot: number): E2eShop {
  if (slot === 0) return { databaseUrl: e2eDatabaseUrl, redisPrefix: e2eRedisPrefix, port: e2ePort };
  const url = new URL(e2eDatabaseUrl);
  url.pathname = `${url.pathname}_${slot}`;
  return { databaseUrl: url.href, redisPrefix: `${e2eRedisPrefix}-${slot}`, port: e2ePort + 10 * slot };
}

/** The shop of the browser-test worker this process is (Playwright numbers them in TEST_PARALLEL_INDEX). */
export const e2eShopHere = e2eShop(Number(process.env.TEST_PARALLEL_INDEX ?? 0));

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const which = process.argv[2];
  if (which !== "test" && which !== "e2e") {
    console.error("usage: tsx test/stores.ts test|e2e");
    process.exit(2);
  }
  console.info(which === "test" ? testDatabaseUrl : e2eDatabaseUrl);
}
