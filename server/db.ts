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

// prisma.$disconnect() ends the pool too: one call closes the database of a process.
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

/** Runs one statement built with Prisma.sql (values are always parameters, never spliced in). */
export async function sql<Row>(statement: Prisma.Sql): Promise<Row[]> {
  const { text, values } = statement;
  let name = prepared.get(text);
  if (!name) {
    name = `order_path_${prepared.size + 1}`;
    prepared.set(text, name);
  }
  const result = await pool.query({ name, text, values, types });
  return result.rows as Row[];
}

/** A Date as the UTC wall-clock value Prisma keeps in `timestamp` columns. */
export function utc(date: Date): Prisma.Sql {
  return Prisma.sql`(${date.toISOString()}::timestamptz AT TIME ZONE 'UTC')`;
}

/** The SQLSTATE of an error Postgres raised (e.g. 23514, a CHECK constraint), if it is one. */
export function sqlState(error: unknown): string | undefined {
  return error instanceof pg.DatabaseError ? error.code : undefined;
}
