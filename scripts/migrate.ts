// Applies prisma/migrations to a database. Prisma 7's `migrate deploy` needs a native schema engine
// that cannot be downloaded here, so this runner does its job: same folder format, same
// `_prisma_migrations` table and checksums, same advisory lock, so that wherever the real CLI runs,
// `prisma migrate status` / `deploy` agree with what this script did. Kept rather than a migration
// library: what it must match is Prisma's own `_prisma_migrations` bookkeeping, which Prisma's CLI
// writes, and that CLI cannot run offline.
// Usage: `npm run db:migrate` (DATABASE_URL from server/config.ts).
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import pg from "pg";

export const defaultMigrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));

/** The key Prisma's schema engine locks on Postgres, so this runner and the real CLI exclude each other. */
const ADVISORY_LOCK_KEY = 72707369;

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface LocalMigration {
  name: string;
  script: string;
  checksum: string;
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Prisma accepts a file whose line endings git changed since it was applied (LF <-> CRLF). */
export function checksumMatches(script: string, checksum: string): boolean {
  const variants = [script, script.replaceAll("\r\n", "\n"), script.replace(/\r?\n/g, "\r\n")];
  return variants.some((variant) => sha256Hex(variant) === checksum);
}

export function readMigrations(migrationsDir: string = defaultMigrationsDir): LocalMigration[] {
  const lockFile = join(migrationsDir, "migration_lock.toml");
  if (existsSync(lockFile) && !/^provider\s*=\s*"postgresql"\s*$/m.test(readFileSync(lockFile, "utf8"))) {
    throw new Error(`${lockFile} is not for provider "postgresql"`);
  }
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(migrationsDir, entry.name, "migration.sql")))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const script = readFileSync(join(migrationsDir, name, "migration.sql"), "utf8");
      return { name, script, checksum: sha256Hex(script) };
    });
}

function databaseName(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  if (!name) throw new Error("DATABASE_URL names no database");
  return name;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function pgErrorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return undefined;
}

async function ensureDatabase(databaseUrl: string): Promise<void> {
  const name = databaseName(databaseUrl);
  const maintenanceUrl = new URL(databaseUrl);
  maintenanceUrl.pathname = "/postgres";
  const client = new pg.Client({ connectionString: maintenanceUrl.toString() });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount) return;
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
      console.info(`migrate: created database ${name}`);
    } catch (error) {
      // Another process created it between our check and our CREATE: that is fine.
      const code = pgErrorCode(error);
      if (code !== "42P04" && code !== "23505") throw error;
    }
  } finally {
    await client.end();
  }
}

/**
 * Applies every migration not yet recorded in `_prisma_migrations`, in name order, each in its own
 * transaction, and returns the names applied. Creates the database first if it does not exist.
 * Throws if an applied migration's file was edited afterwards, or a previous attempt failed
 * (Prisma's P3009: a human must look), without applying anything.
 */
export async function migrate(
  databaseUrl: string,
  options: { migrationsDir?: string } = {},
): Promise<string[]> {
  const migrationsDir = options.migrationsDir ?? defaultMigrationsDir;
  const local = readMigrations(migrationsDir);
  await ensureDatabase(databaseUrl);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [ADVISORY_LOCK_KEY]);
    try {
      await client.query(CREATE_MIGRATIONS_TABLE);
      const { rows } = await client.query<AppliedRow>(
        `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations"
         WHERE rolled_back_at IS NULL ORDER BY started_at`,
      );
      const failed = rows.filter((row) => row.finished_at === null);
      if (failed.length > 0) {
        const names = failed.map((row) => row.migration_name).join(", ");
        throw new Error(
          `migration(s) ${names} failed in an earlier run and were not rolled back; fix the database, then ` +
            `mark them with \`prisma migrate resolve\` (or delete their rows from "_prisma_migrations")`,
        );
      }
      const applied = new Map(rows.map((row) => [row.migration_name, row.checksum]));
      const edited = local.filter((m) => {
        const checksum = applied.get(m.name);
        return checksum !== undefined && !checksumMatches(m.script, checksum);
      });
      if (edited.length > 0) {
        const names = edited.map((m) => m.name).join(", ");
        throw new Error(
          `migration(s) ${names} were modified after they were applied; restore the original file(s) ` +
            `and put the change in a new migration (a disposable database, like the test one, can ` +
            `instead be dropped and migrated afresh)`,
        );
      }
      const known = new Set(local.map((m) => m.name));
      for (const name of applied.keys()) {
        if (!known.has(name)) console.error(`migrate: ${name} is applied but missing from ${migrationsDir}`);
      }

      const done: string[] = [];
      for (const migration of local.filter((m) => !applied.has(m.name))) {
        const startedAt = Date.now();
        await client.query("BEGIN");
        try {
          const id = randomUUID();
          await client.query(
            `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
             VALUES ($1, $2, $3, now(), 0)`,
            [id, migration.checksum, migration.name],
          );
          await client.query(migration.script);
          await client.query(
            `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`,
            [id],
          );
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK");
          const reason = error instanceof Error ? error.message : String(error);
          throw new Error(`migration ${migration.name} failed and was rolled back: ${reason}`);
        }
        console.info(`migrate: applied ${migration.name} (${Date.now() - startedAt} ms)`);
        done.push(migration.name);
      }
      return done;
    } finally {
      // Ending the session releases the lock anyway; unlocking first just frees it sooner.
      await client.query("SELECT pg_advisory_unlock($1)", [ADVISORY_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await client.end();
  }
}

function redact(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (url.password) url.password = "***";
  return url.toString();
}

async function main(): Promise<void> {
  const { config } = await import("../server/config");
  const applied = await migrate(config.DATABASE_URL);
  const total = readMigrations().length;
  console.info(
    applied.length > 0
      ? `migrate: ${applied.length} applied, ${total} total, ${redact(config.DATABASE_URL)} is up to date`
      : `migrate: nothing to apply, all ${total} migration(s) already applied to ${redact(config.DATABASE_URL)}`,
  );
}

function invokedDirectly(): boolean {
  const entry = process.argv[1];
  if (!entry || !existsSync(entry)) return false;
  return import.meta.url === pathToFileURL(realpathSync(entry)).href;
}

if (invokedDirectly()) {
  main().catch((error: unknown) => {
    console.error(`migrate: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
