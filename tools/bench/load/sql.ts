// bench:load's reads of Postgres' own counters: statements (pg_stat_statements, BEGIN/COMMIT excluded)
// and transactions (pg_stat_database) with the bench's own queries subtracted, the statement shapes
// that took the most time per order (--statements), and whether a window's orders have all settled.
import { setTimeout as sleep } from "node:timers/promises";
import { FINAL_STATUSES } from "./options";
import type { Bench } from "./stack";

/** The bench's own queries, subtracted from the statement and transaction counts. */
const own = { queries: 0, counted: 0 };

export async function query(
  bench: Bench,
  text: string,
  values: unknown[] = [],
): Promise<Record<string, unknown>> {
  own.queries++;
  if (!text.includes("pg_stat_statements")) own.counted++;
  return (await bench.db.query(text, values)).rows[0] ?? {};
}

export async function sqlCounters(bench: Bench): Promise<{ statements: number; xacts: number }> {
  const mine = { ...own };
  const commits = await query(
    bench,
    "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
  );
  const calls = bench.statements
    ? await query(
        bench,
        String.raw`SELECT sum(calls) AS n FROM pg_stat_statements
         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND query NOT ILIKE '%pg_stat_statements%' AND query !~* '^\s*(begin|commit|rollback)\y'`,
      )
    : { n: Number.NaN };
  return { statements: Number(calls.n) - mine.counted, xacts: Number(commits.xact_commit) - mine.queries };
}

/** Per statement shape (pg_stat_statements' queryid): calls and time spent executing and planning. */
export type ShapeTimes = Map<string, { query: string; calls: number; execMs: number; planMs: number }>;

export async function shapeTimes(bench: Bench): Promise<ShapeTimes> {
  own.queries++;
  const { rows } = await bench.db.query<{
    queryid: string;
    query: string;
    calls: string;
    exec_ms: number;
    plan_ms: number;
  }>(
    `SELECT queryid::text, query, calls::text, total_exec_time AS exec_ms, total_plan_time AS plan_ms
       FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND query NOT ILIKE '%pg_stat_statements%'`,
  );
  return new Map(
    rows.map((row) => [
      row.queryid,
      { query: row.query, calls: Number(row.calls), execMs: row.exec_ms, planMs: row.plan_ms },
    ]),
  );
}

/** The statement shapes that took the most of Postgres' time per order in a window, one line each. */
export function shapeReport(before: ShapeTimes, after: ShapeTimes, orders: number, top = 12): string {
  const rows = [...after].map(([id, now]) => {
    const then = before.get(id) ?? { calls: 0, execMs: 0, planMs: 0 };
    return {
      query: now.query.replace(/\s+/g, " ").slice(0, 110),
      calls: (now.calls - then.calls) / orders,
      execMs: (now.execMs - then.execMs) / orders,
      planMs: (now.planMs - then.planMs) / orders,
    };
  });
  const shown = rows
    .filter((row) => row.calls > 0)
    .sort((a, b) => b.execMs + b.planMs - (a.execMs + a.planMs))
    .slice(0, top);
  const sum = (key: "execMs" | "planMs") => rows.reduce((total, row) => total + Math.max(0, row[key]), 0);
  const lines = shown.map(
    (row) =>
      `  ${row.calls.toFixed(2).padStart(5)} calls  exec ${row.execMs.toFixed(3)}  plan ${row.planMs.toFixed(3)} ms  ${row.query}`,
  );
  return (
    `  per order: exec ${sum("execMs").toFixed(2)} ms, plan ${sum("planMs").toFixed(2)} ms in all ` +
    `(pg_stat_statements; the rest of Postgres' CPU is protocol, commits, WAL and the backends themselves)\n` +
    lines.join("\n")
  );
}

export async function waitDrained(bench: Bench, since: Date, deadline: number): Promise<boolean> {
  for (;;) {
    bench.assertRunning();
    const { n } = await query(
      bench,
      `SELECT count(*)::int AS n FROM "Order"
       WHERE status <> ALL($1::text[]) AND "createdAt" >= ($2::timestamptz AT TIME ZONE 'UTC')`,
      [FINAL_STATUSES, since.toISOString()],
    );
    if (n === 0) return true;
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
}
