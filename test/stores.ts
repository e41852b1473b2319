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

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const which = process.argv[2];
  if (which !== "test" && which !== "e2e") {
    console.error("usage: tsx test/stores.ts test|e2e");
    process.exit(2);
  }
  console.info(which === "test" ? testDatabaseUrl : e2eDatabaseUrl);
}
