// vitest globalSetup: brings the test database to the latest migration once, before any test file
// runs. It runs in vitest's main process, where the config's test env is not applied yet, so it
// computes the test database URL itself (TEST_DATABASE_URL, else the local storefront_test db).
import { migrate } from "../scripts/migrate";

export const defaultTestDatabaseUrl = "postgresql://postgres@127.0.0.1:5432/storefront_test";

export default async function setup(): Promise<void> {
  await migrate(process.env.TEST_DATABASE_URL ?? defaultTestDatabaseUrl);
}
