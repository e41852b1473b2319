// Proves the hand-written migrations build exactly the database schema.prisma describes, so the two
// can never drift silently (Prisma 7's own `migrate diff` needs a native engine we cannot download).
// The expected shape comes from Prisma's own DMMF, computed by the schema wasm the `prisma` package
// ships; the actual shape from the catalog of a fresh database migrated by scripts/migrate.ts.
// It also checks the runner itself: Prisma-compatible bookkeeping, idempotence, the advisory lock,
// and refusing a migration edited after it was applied.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultMigrationsDir, migrate, readMigrations, sha256Hex } from "../scripts/migrate";

// ---------------------------------------------------------------------------------------------
// Prisma's DMMF, offline: prisma_schema_build_bg.wasm is the same module `prisma generate` uses;
// it needs only four tiny wasm-bindgen imports, matched by name prefix (their hash suffix changes
// between Prisma releases).

interface DmmfFunctionDefault {
  name: string;
  args: unknown[];
}

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: "scalar" | "object" | "enum" | "unsupported";
  isList: boolean;
  isRequired: boolean;
  type: string;
  nativeType?: unknown;
  hasDefaultValue: boolean;
  default?: DmmfFunctionDefault | string | number | boolean;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}

interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}

interface DmmfIndex {
  model: string;
  type: "id" | "unique" | "normal" | "fulltext";
  dbName?: string | null;
  fields: { name: string }[];
}

interface Dmmf {
  datamodel: { models: DmmfModel[]; enums: unknown[]; indexes: DmmfIndex[] };
}

interface SchemaWasm {
  memory: WebAssembly.Memory;
  __wbindgen_externrefs: WebAssembly.Table;
  __wbindgen_start: () => void;
  __wbindgen_malloc: (size: number, align: number) => number;
  __wbindgen_free: (ptr: number, size: number, align: number) => void;
  get_dmmf: (ptr: number, len: number) => [number, number, number, number];
}

function loadDmmf(schema: string): Dmmf {
  const require = createRequire(import.meta.url);
  const wasmPath = join(dirname(require.resolve("prisma/package.json")), "build/prisma_schema_build_bg.wasm");
  const module = new WebAssembly.Module(readFileSync(wasmPath));
  let wasm: SchemaWasm | undefined;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const text = (ptr: number, len: number): string => {
    if (!wasm) throw new Error("schema wasm is not instantiated");
    return decoder.decode(new Uint8Array(wasm.memory.buffer, ptr >>> 0, len));
  };
  const handlers: Record<string, (...args: number[]) => unknown> = {
    __wbg_Error: (ptr, len) => new Error(text(ptr, len)),
    __wbg___wbindgen_throw: (ptr, len) => {
      throw new Error(text(ptr, len));
    },
    __wbg_set_message: (ptr, len) => {
      throw new Error(`prisma schema wasm panicked: ${text(ptr, len)}`);
    },
    __wbindgen_init_externref_table: () => {
      if (!wasm) throw new Error("schema wasm is not instantiated");
      const table = wasm.__wbindgen_externrefs;
      const base = table.grow(4);
      table.set(0, undefined);
      table.set(base, undefined);
      table.set(base + 1, null);
      table.set(base + 2, true);
      table.set(base + 3, false);
    },
  };
  const imports: Record<string, Record<string, (...args: number[]) => unknown>> = {};
  for (const entry of WebAssembly.Module.imports(module)) {
    const key = Object.keys(handlers).find((k) => entry.name === k || entry.name.startsWith(`${k}_`));
    const handler = key ? handlers[key] : undefined;
    if (!handler)
      throw new Error(`prisma schema wasm wants an unknown import ${entry.name}; update loadDmmf`);
    imports[entry.module] = { ...imports[entry.module], [entry.name]: handler };
  }
  const instance = new WebAssembly.Instance(module, imports);
  wasm = instance.exports as unknown as SchemaWasm;
  wasm.__wbindgen_start();

  const input = new TextEncoder().encode(JSON.stringify({ prismaSchema: schema, noColor: true }));
  const ptr = wasm.__wbindgen_malloc(input.length, 1);
  new Uint8Array(wasm.memory.buffer, ptr, input.length).set(input);
  const [outPtr, outLen, errorRef, failed] = wasm.get_dmmf(ptr, input.length);
  if (failed) throw new Error(`get_dmmf failed: ${String(wasm.__wbindgen_externrefs.get(errorRef))}`);
  const json = text(outPtr, outLen);
  wasm.__wbindgen_free(outPtr, outLen, 1);
  const dmmf: Dmmf = JSON.parse(json);
  return dmmf;
}

// ---------------------------------------------------------------------------------------------
// What schema.prisma says each table must look like, in the same shape as what we read back.

interface ColumnShape {
  type: string;
  nullable: boolean;
  default: string | null;
}

interface IndexShape {
  name: string;
  kind: "primary" | "unique" | "index";
  columns: string[];
}

interface ForeignKeyShape {
  name: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: string;
  onUpdate: string;
}

const POSTGRES_IDENTIFIER_MAX = 63;

const schemaText = readFileSync(new URL("../prisma/schema.prisma", import.meta.url), "utf8");
const dmmf = loadDmmf(schemaText);
const models = dmmf.datamodel.models;

const tableOf = (model: DmmfModel): string => model.dbName ?? model.name;
const columnOf = (field: DmmfField): string => field.dbName ?? field.name;
const scalarFields = (model: DmmfModel): DmmfField[] => model.fields.filter((f) => f.kind === "scalar");

function modelNamed(name: string): DmmfModel {
  const model = models.find((m) => m.name === name);
  if (!model) throw new Error(`no model ${name} in the DMMF`);
  return model;
}

function columnsOf(model: DmmfModel, fieldNames: string[]): string[] {
  return fieldNames.map((name) => {
    const field = model.fields.find((f) => f.name === name);
    if (!field) throw new Error(`${model.name} has no field ${name}`);
    return columnOf(field);
  });
}

/** Prisma's default constraint/index names (the schema sets no `map:`, so these are what it uses). */
function defaultName(table: string, columns: string[], suffix: "pkey" | "key" | "idx" | "fkey"): string {
  const name = suffix === "pkey" ? `${table}_pkey` : `${table}_${columns.join("_")}_${suffix}`;
  if (name.length > POSTGRES_IDENTIFIER_MAX) {
    throw new Error(`${name} is longer than Postgres allows; Prisma truncates it, teach this test how`);
  }
  return name;
}

const scalarTypes: Record<string, string> = {
  String: "text",
  Int: "integer",
  BigInt: "bigint",
  Float: "double precision",
  Boolean: "boolean",
  DateTime: "timestamp(3)",
  Json: "jsonb",
  Bytes: "bytea",
  Decimal: "numeric(65,30)",
};

function expectedType(model: DmmfModel, field: DmmfField): string {
  const type = scalarTypes[field.type];
  if (!type || field.nativeType || field.isList) {
    throw new Error(`${model.name}.${field.name} (${field.type}) is outside what this test maps; extend it`);
  }
  return type;
}

function expectedDefault(table: string, model: DmmfModel, field: DmmfField): string | null {
  const value = field.default;
  if (!field.hasDefaultValue || value === undefined) return null;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "string") return `'${value.replaceAll("'", "''")}'::${expectedType(model, field)}`;
  switch (value.name) {
    case "now":
      return "CURRENT_TIMESTAMP";
    case "autoincrement":
      return `nextval('"${table}_${columnOf(field)}_seq"'::regclass)`;
    case "uuid":
    case "cuid":
    case "nanoid":
    case "ulid":
      return null; // generated by the Prisma client, not the database
    default:
      throw new Error(`${model.name}.${field.name} has a @default(${value.name}()) this test cannot map`);
  }
}

function expectedColumns(model: DmmfModel): Record<string, ColumnShape> {
  const table = tableOf(model);
  return Object.fromEntries(
    scalarFields(model).map((field) => [
      columnOf(field),
      {
        type: expectedType(model, field),
        nullable: !field.isRequired,
        default: expectedDefault(table, model, field),
      },
    ]),
  );
}

function expectedIndexes(model: DmmfModel): IndexShape[] {
  const table = tableOf(model);
  return dmmf.datamodel.indexes
    .filter((index) => index.model === model.name)
    .map((index): IndexShape => {
      const columns = columnsOf(
        model,
        index.fields.map((f) => f.name),
      );
      if (index.type === "fulltext") throw new Error(`${model.name} has a fulltext index; extend this test`);
      const kind = index.type === "id" ? "primary" : index.type === "unique" ? "unique" : "index";
      const suffix = kind === "primary" ? "pkey" : kind === "unique" ? "key" : "idx";
      return { name: index.dbName ?? defaultName(table, columns, suffix), kind, columns };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

function expectedForeignKeys(model: DmmfModel): ForeignKeyShape[] {
  const table = tableOf(model);
  return model.fields
    .filter((field) => field.kind === "object" && (field.relationFromFields?.length ?? 0) > 0)
    .map((field): ForeignKeyShape => {
      const target = modelNamed(field.type);
      const columns = columnsOf(model, field.relationFromFields ?? []);
      const required = (field.relationFromFields ?? []).every(
        (name) => model.fields.find((f) => f.name === name)?.isRequired,
      );
      return {
        name: defaultName(table, columns, "fkey"),
        columns,
        referencedTable: tableOf(target),
        referencedColumns: columnsOf(target, field.relationToFields ?? []),
        // Prisma's defaults: Restrict for a required relation, SetNull for an optional one; Cascade on update.
        onDelete: field.relationOnDelete ?? (required ? "Restrict" : "SetNull"),
        onUpdate: field.relationOnUpdate ?? "Cascade",
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

// ---------------------------------------------------------------------------------------------
// What the migrated database actually has.

interface ColumnRow {
  column_name: string;
  data_type: string;
  datetime_precision: number | null;
  numeric_precision: number | null;
  numeric_scale: number | null;
  is_nullable: "YES" | "NO";
  column_default: string | null;
}

function describeType(row: ColumnRow): string {
  switch (row.data_type) {
    case "timestamp without time zone":
      return `timestamp(${row.datetime_precision})`;
    case "numeric":
      return `numeric(${row.numeric_precision},${row.numeric_scale})`;
    default:
      return row.data_type;
  }
}

async function actualColumns(db: pg.Client, table: string): Promise<Record<string, ColumnShape>> {
  const { rows } = await db.query<ColumnRow>(
    `SELECT column_name, data_type, datetime_precision, numeric_precision, numeric_scale, is_nullable,
            column_default
     FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1`,
    [table],
  );
  return Object.fromEntries(
    rows.map((row) => [
      row.column_name,
      { type: describeType(row), nullable: row.is_nullable === "YES", default: row.column_default },
    ]),
  );
}

async function actualIndexes(db: pg.Client, table: string): Promise<IndexShape[]> {
  const { rows } = await db.query<{ name: string; primary: boolean; unique: boolean; columns: string[] }>(
    `SELECT i.relname AS name, ix.indisprimary AS primary, ix.indisunique AS unique,
            array_agg(a.attname::text ORDER BY k.ord) AS columns
     FROM pg_index ix
     JOIN pg_class t ON t.oid = ix.indrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace
     JOIN pg_class i ON i.oid = ix.indexrelid
     CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
     WHERE n.nspname = current_schema() AND t.relname = $1
     GROUP BY i.relname, ix.indisprimary, ix.indisunique`,
    [table],
  );
  return rows
    .map((row): IndexShape => {
      const kind = row.primary ? "primary" : row.unique ? "unique" : "index";
      return { name: row.name, kind, columns: row.columns };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

const referentialActions: Record<string, string> = {
  a: "NoAction",
  r: "Restrict",
  c: "Cascade",
  n: "SetNull",
  d: "SetDefault",
};

interface ForeignKeyRow extends Omit<ForeignKeyShape, "onDelete" | "onUpdate"> {
  deleteCode: string;
  updateCode: string;
}

async function actualForeignKeys(db: pg.Client, table: string): Promise<ForeignKeyShape[]> {
  const { rows } = await db.query<ForeignKeyRow>(
    `SELECT c.conname AS name,
            (SELECT array_agg(a.attname::text ORDER BY k.ord)
             FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS columns,
            ft.relname AS "referencedTable",
            (SELECT array_agg(a.attname::text ORDER BY k.ord)
             FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS "referencedColumns",
            c.confdeltype AS "deleteCode", c.confupdtype AS "updateCode"
     FROM pg_constraint c
     JOIN pg_class t ON t.oid = c.conrelid
     JOIN pg_namespace n ON n.oid = t.relnamespace
     JOIN pg_class ft ON ft.oid = c.confrelid
     WHERE c.contype = 'f' AND n.nspname = current_schema() AND t.relname = $1`,
    [table],
  );
  return rows
    .map(
      (row): ForeignKeyShape => ({
        name: row.name,
        columns: row.columns,
        referencedTable: row.referencedTable,
        referencedColumns: row.referencedColumns,
        onDelete: referentialActions[row.deleteCode] ?? `unknown(${row.deleteCode})`,
        onUpdate: referentialActions[row.updateCode] ?? `unknown(${row.updateCode})`,
      }),
    )
    .sort((a, b) => a.name.localeCompare(b.name));
}

// ---------------------------------------------------------------------------------------------
// A database of this file's own, migrated from empty (not a copy of the migrated template), so the
// comparison never depends on the template, and an edited migration shows up here as drift. Named
// after the file's own database, so a killed run's copy is swept with it (test/file-stores.ts).

const baseUrl = new URL(process.env.DATABASE_URL ?? "");
const scratchName = `${baseUrl.pathname.slice(1)}_empty`;
const scratchUrl = new URL(baseUrl);
scratchUrl.pathname = `/${scratchName}`;
const maintenanceUrl = new URL(baseUrl);
maintenanceUrl.pathname = "/postgres";

const localMigrations = readMigrations();
let db: pg.Client;
let appliedByConcurrentRuns: string[];

beforeAll(async () => {
  // Two runners at once, as when web and worker start together: the advisory lock must let exactly
  // one of them apply each migration (both also race to create the database).
  const runs = await Promise.all([migrate(scratchUrl.toString()), migrate(scratchUrl.toString())]);
  appliedByConcurrentRuns = runs.flat();
  db = new pg.Client({ connectionString: scratchUrl.toString() });
  await db.connect();
}, 60_000);

afterAll(async () => {
  await db?.end();
  const admin = new pg.Client({ connectionString: maintenanceUrl.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${scratchName}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
});

describe("the migrated database matches schema.prisma", () => {
  it("reads a non-trivial data model from Prisma's DMMF", () => {
    expect(models.length).toBeGreaterThan(0);
    expect(models.every((m) => scalarFields(m).length > 0)).toBe(true);
  });

  it("would notice a change to schema.prisma (self-check of the comparison)", async () => {
    const probed = loadDmmf(schemaText.replace(/^model \w+ \{$/m, (line) => `${line}\n  driftProbe String`));
    const [model] = probed.datamodel.models;
    if (!model) throw new Error("the probed schema has no model");
    expect(expectedColumns(model)).toHaveProperty("driftProbe");
    expect(await actualColumns(db, tableOf(model))).not.toEqual(expectedColumns(model));
  });

  it("has a table per model, plus _prisma_migrations, and nothing else", async () => {
    const { rows } = await db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables
       WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
    );
    const actual = rows.map((r) => r.table_name).sort();
    const expected = [...models.map(tableOf), "_prisma_migrations"].sort();
    expect(actual).toEqual(expected);
  });

  describe.each(models.map((model) => [tableOf(model), model] as const))("%s", (table, model) => {
    it("has exactly the model's scalar fields as columns, with their types, nullability and defaults", async () => {
      expect(await actualColumns(db, table)).toEqual(expectedColumns(model));
    });

    it("has the @id as primary key and exactly the @unique / @@unique / @@index indexes", async () => {
      expect(await actualIndexes(db, table)).toEqual(expectedIndexes(model));
    });

    it("has exactly the relations' foreign keys, with their referential actions", async () => {
      expect(await actualForeignKeys(db, table)).toEqual(expectedForeignKeys(model));
    });
  });

  it("keeps the hand-written guards Prisma cannot express (stock >= 0, quantity > 0)", async () => {
    await db.query(
      `INSERT INTO "Product" (id, slug, name, description, "priceCents", stock, "artHue", "artMotif")
       VALUES ('prod_guard', 'guard', 'Guard', 'A probe.', 100, 1, 0, 'box')`,
    );
    await expect(db.query(`UPDATE "Product" SET stock = -1 WHERE id = 'prod_guard'`)).rejects.toMatchObject({
      code: "23514",
      constraint: "Product_stock_nonnegative",
    });
    const { rows } = await db.query<{ conname: string }>(
      `SELECT conname FROM pg_constraint WHERE contype = 'c' AND conname = 'OrderItem_quantity_positive'`,
    );
    expect(rows).toHaveLength(1);
    await db.query(`DELETE FROM "Product" WHERE id = 'prod_guard'`);
  });
});

describe("scripts/migrate.ts", () => {
  it("applied every migration exactly once although two runners started together", () => {
    expect(appliedByConcurrentRuns).toEqual(localMigrations.map((m) => m.name));
  });

  it("records each migration as Prisma does: sha256 of the file, finished, one step", async () => {
    const { rows } = await db.query<{
      migration_name: string;
      checksum: string;
      finished_at: Date | null;
      rolled_back_at: Date | null;
      applied_steps_count: number;
    }>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count
       FROM "_prisma_migrations" ORDER BY migration_name`,
    );
    const expected = localMigrations.map((m) => ({
      migration_name: m.name,
      checksum: sha256Hex(readFileSync(join(defaultMigrationsDir, m.name, "migration.sql"), "utf8")),
      rolled_back_at: null,
      applied_steps_count: 1,
    }));
    expect(rows.map(({ finished_at: _finishedAt, ...rest }) => rest)).toEqual(expected);
    expect(rows.every((row) => row.finished_at instanceof Date)).toBe(true);
  });

  it("applies nothing when run again", async () => {
    expect(await migrate(scratchUrl.toString())).toEqual([]);
  });

  it("refuses a migration that was edited after it was applied", async () => {
    const copy = mkdtempSync(join(tmpdir(), "migrations-"));
    try {
      cpSync(defaultMigrationsDir, copy, { recursive: true });
      const first = localMigrations[0];
      if (!first) throw new Error("no migrations to edit");
      const file = join(copy, first.name, "migration.sql");
      writeFileSync(file, `${readFileSync(file, "utf8")}\n-- an afterthought\n`);
      await expect(migrate(scratchUrl.toString(), { migrationsDir: copy })).rejects.toThrow(
        /modified after they were applied/,
      );
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
