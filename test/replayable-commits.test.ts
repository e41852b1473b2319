// The worker's commits do not wait for the write-ahead log's flush (WORKER_COMMITS=replayable, see
// commitReplayably in server/db.ts), except the relay's claim, which must be durable before its jobs go
// to Redis. Checked on the connections themselves: what Postgres says each one's setting is.
import { afterAll, expect, it } from "vitest";
import { closeDatabase, commitReplayably, Prisma, sql, sqlDurably } from "../server/db";

afterAll(closeDatabase);

const setting = async (run: typeof sql) =>
  (await run<{ synchronous_commit: string }>(Prisma.sql`SHOW synchronous_commit`))[0]?.synchronous_commit;

it("commits durably until told otherwise, then only the durable statements wait for the flush", async () => {
  expect(await setting(sql)).toBe("on");
  commitReplayably();
  // Connections opened from now on (the pool opens them on demand): end the one opened above.
  await sql(Prisma.sql`SELECT pg_terminate_backend(pg_backend_pid())`).catch(() => null);
  expect(await setting(sql)).toBe("off");
  expect(await setting(sqlDurably)).toBe("on");
});
