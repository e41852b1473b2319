// The database of a process: one pg pool, used by the Prisma client (Prisma 7: query compiler + the
// pg driver adapter) and by the order path's hand-written statements (`sql`), which need one round
// trip per change (see server/orders/change.ts). pg connects lazily: importing opens no connection.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { config } from "./config";
import { Prisma, PrismaClient } from "./generated/prisma/client";
import { databaseOutage, errorReporter } from "./log";

export const pool = new pg.Pool({
  connectionString: config.DATABASE_URL,
  max: config.DATABASE_POOL_SIZE,
  // Admission control keeps checkouts from queueing here; a wait this long means Postgres is gone.
  connectionTimeoutMillis: 10_000,
});
// An idle connection that Postgres closes (a restart) is dropped from the pool, which opens new ones on
// demand; without a listener its error event would end the process instead.
pool.on("error", errorReporter("database pool"));
// A new connection after connections were lost or refused: Postgres is back (logged once).
pool.on("connect", () => databaseOutage.back());

/** Whether this process's commits are replayable (see commitReplayably). */
let replayable = false;

/**
 * From now on this process's commits do not wait for the write-ahead log's flush (synchronous_commit
 * off): for the worker, whose every change is replayable. A step's change lost in a crash is a step not
 * recorded: the job's retry, the reconciler or the sweeper does it again, and the providers' idempotency
 * keys keep its effect once. Nothing survives whose cause was lost: the log is replayed in commit order,
 * so a crash loses the latest commits only, and every hand-off to something Postgres does not roll back
 * (a change that writes outbox rows, or the relay's claim of them, before their jobs go to Redis)
 * commits durably (`sqlDurably`), which flushes every commit before it too. The web process keeps every commit durable: its answers are
 * what shoppers are told. Call before the process's first statement.
 */
export function commitReplayably(): void {
  replayable = true;
  // A startup option of every connection the pool opens from now on (it opens them on demand).
  pool.options.options = "-c synchronous_commit=off";
}

// prisma.$disconnect() ends the pool too (closeDatabase also ends the durable connection, if any).
export const prisma = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });

export type Db = typeof prisma;
export type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

export { Prisma };

/** Prisma's DateTime columns are `timestamp` without a zone, holding UTC: read them as UTC. */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === pg.types.builtins.TIMESTAMP)
      return (value: string) => new Date(`${value.replace(" ", "T")}Z`);
    return pg.types.getTypeParser(oid, format);
  },
};

/** Statement texts seen so far and their names: the order path has a few dozen shapes, each parsed
 * and planned once per connection, then only bound and run (a named prepared statement). */
const prepared = new Map<string, string>();

/** The statement as a named query (see `prepared`), its timestamps read as UTC. */
function named({ text, values }: Prisma.Sql) {
  let name = prepared.get(text);
  if (!name) {
    name = `order_path_${prepared.size + 1}`;
    prepared.set(text, name);
  }
  return { name, text, values, types };
}

/** Runs one statement built with Prisma.sql (values are always parameters, never spliced in). */
export async function sql<Row>(statement: Prisma.Sql): Promise<Row[]> {
  const result = await pool.query(named(statement));
  return result.rows as Row[];
}

/** A pool of the process's own beside `pool`, for statements that must commit otherwise than its
 * connections do, opened on first use. */
function poolBeside(label: string, settings: { max: number; options?: string }) {
  let opened: pg.Pool | null = null;
  return {
    async query<Row>(statement: Prisma.Sql): Promise<Row[]> {
      if (!opened) {
        opened = new pg.Pool({
          connectionString: config.DATABASE_URL,
          connectionTimeoutMillis: 10_000,
          ...settings,
        });
        opened.on("error", errorReporter(`database pool (${label})`));
      }
      return (await opened.query(named(statement))).rows as Row[];
    },
    end: async () => {
      await opened?.end();
    },
  };
}

/** Connections for `sqlDurably` in a process whose commits are replayable: their commits wait for the
 * flush as every connection's do by default. */
const durable = poolBeside("durable", { max: 4 });

/** Like `sql`, but committed durably even in a process whose commits are replayable: the WAL is flushed
 * (this commit and every one before it) before it returns. In any other process it is `sql`. */
export async function sqlDurably<Row>(statement: Prisma.Sql): Promise<Row[]> {
  return replayable ? durable.query<Row>(statement) : sql<Row>(statement);
}

/** The simulated providers' connections, in a process whose commits are durable (in any other, `sql`'s
 * connections commit as these do). */
const providers = poolBeside("providers", {
  max: config.DATABASE_POOL_SIZE,
  options: "-c synchronous_commit=off",
});

/**
 * A statement of a simulated provider (its ledger: server/downstream/simulate.ts), committed without
 * waiting for the write-ahead log's flush. The providers stand in for services outside the shop, whose
 * disks are not the shop's cost; keeping their memory here, a crash can take back only their latest
 * calls, never one the shop acted on: the log is replayed in commit order, and the shop acts on a
 * provider's answer only through a later commit of its own (an order change that records it), whose
 * flush, if it is durable, flushes the provider's row first. Until then the answer was given to no one.
 */
export async function sqlAtProvider<Row>(statement: Prisma.Sql): Promise<Row[]> {
  return replayable ? sql<Row>(statement) : providers.query<Row>(statement);
}

/** Closes the process's connections: the pool (through Prisma) and the others, if opened. */
export async function closeDatabase(): Promise<void> {
  await prisma.$disconnect();
  await durable.end();
  await providers.end();
}

/** A Date as the UTC wall-clock value Prisma keeps in `timestamp` columns. */
export function utc(date: Date): Prisma.Sql {
  return Prisma.sql`(${date.toISOString()}::timestamptz AT TIME ZONE 'UTC')`;
}

/** The SQLSTATE of an error Postgres raised (e.g. 23514, a CHECK constraint), if it is one. */
export function sqlState(error: unknown): string | undefined {
  return error instanceof pg.DatabaseError ? error.code : undefined;
}
