// vitest globalSetup: brings the template database (TEST_DATABASE_URL) to the latest migration once,
// before any test file copies it (test/file-stores.ts), and sweeps the file databases and Redis keys a
// killed run may have left, before the run and after it.
import { migrate } from "../scripts/migrate";
import { sweepFileStores } from "./file-stores";
import { testDatabaseUrl } from "./stores";

export default async function setup(): Promise<() => Promise<void>> {
  await sweepFileStores();
  await migrate(testDatabaseUrl);
  return sweepFileStores;
}
