// vitest setupFiles: runs in each test file's worker before the file itself, giving it a database and
// a Redis prefix of its own (test/file-stores.ts) through DATABASE_URL and REDIS_PREFIX, which server
// code reads when the file imports it. Dropped after the file's last hook.
import { afterAll, expect } from "vitest";
import { openFileStores } from "./file-stores";

const testPath = expect.getState().testPath;
if (!testPath) throw new Error("file-setup: vitest did not say which test file is running");
const stores = await openFileStores(testPath);
process.env.DATABASE_URL = stores.databaseUrl;
process.env.REDIS_PREFIX = stores.redisPrefix;
afterAll(() => stores.close());
