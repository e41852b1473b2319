// Reads one consistent snapshot of a shop for the invariant checks: a read-only, repeatable-read
// transaction over plain `pg` (nothing of the app's runtime, so it works on any database with the
// schema), and optionally the side-effect jobs BullMQ holds.
//
// Initial stock is stored nowhere, so the baseline comes from a file when given (`--baseline FILE`, a
// JSON object of product id → stock, written by `writeBaseline` before any order, as `npm run chaos`
// does), else from the seed catalog (prisma/seed.ts): right for a shop seeded once and never
// restocked; after `db:seed --restock` (or any manual change of stock) take a baseline file instead.
import * as fs from "node:fs";
import { Queue } from "bullmq";
import pg from "pg";
import { z } from "zod";
import { catalog } from "../../prisma/seed";
import { JOB_STATES, SIDE_EFFECT_STEPS, sideEffectJobSchema } from "../../server/contract";
import { clientFor, queuePrefixFor, redisTarget } from "../../server/redis-target";
import type { JobFacts, OrderFacts, Snapshot } from "./checks";

const baselineSchema = z.record(z.string(), z.number().int());

export interface ReadOptions {
  databaseUrl: string;
  baselineFile: string | null;
  /** Read BullMQ's jobs from this Redis (with this key prefix); null leaves them out. */
  redis: { url: string; prefix: string } | null;
}

export async function readSnapshot(options: ReadOptions): Promise<Snapshot> {
  const baseline = readBaseline(options.baselineFile);
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    await client.query("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const { rows: clock } = await client.query<{ now: Date }>("SELECT now() AS now");
    const { rows: orders } =
      await client.query<OrderFacts>(`SELECT o."id", o."mode", o."status", o."createdAt" AT TIME ZONE 'UTC' AS "createdAt",
        (SELECT coalesce(jsonb_object_agg(s.key, s.value ->> 'status'), '{}') FROM jsonb_each(o."steps") s) AS "steps",
        coalesce((SELECT jsonb_agg(jsonb_build_object('productId', i."productId", 'quantity', i."quantity"))
          FROM "OrderItem" i WHERE i."orderId" = o."id"), '[]') AS "items"
      FROM "Order" o`);
    const { rows: calls } = await client.query<Snapshot["calls"][number]>(
      `SELECT "service", "operation", "idempotencyKey",
        coalesce("result" ->> 'orderId', split_part("idempotencyKey", ':', 1)) AS "orderId",
        "createdAt" AT TIME ZONE 'UTC' AS "createdAt"
      FROM "DownstreamCall"`,
    );
    const { rows: outbox } = await client.query<Snapshot["outbox"][number]>(
      `SELECT "id", "orderId", "step", "createdAt" AT TIME ZONE 'UTC' AS "createdAt",
        "dispatchedAt" AT TIME ZONE 'UTC' AS "dispatchedAt" FROM "OutboxMessage"`,
    );
    const { rows: products } = await client.query<{ id: string; stock: number }>(
      `SELECT "id", "stock" FROM "Product"`,
    );
    await client.query("COMMIT");
    const jobs = options.redis ? await readJobs(options.redis) : null;
    return {
      now: clock[0]?.now ?? new Date(),
      orders,
      calls,
      outbox,
      stock: Object.fromEntries(products.map((product) => [product.id, product.stock])),
      baseline,
      jobs: Array.isArray(jobs) ? jobs : null,
      jobsSkipped: options.redis ? (typeof jobs === "string" ? jobs : null) : "not asked for (--jobs)",
    };
  } finally {
    await client.end();
  }
}

function readBaseline(file: string | null): Snapshot["baseline"] {
  if (!file) {
    return {
      source: "seed-catalog stock",
      stock: Object.fromEntries(catalog.map((product) => [product.id, product.stock])),
    };
  }
  const parsed = baselineSchema.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
  if (!parsed.success) throw new Error(`${file} is not a JSON object of product id → whole number`);
  return { source: `baseline in ${file}`, stock: parsed.data };
}

/** Writes the current stock of every product as a baseline file for `--baseline`. */
export async function writeBaseline(databaseUrl: string, file: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string; stock: number }>(`SELECT "id", "stock" FROM "Product"`);
    fs.writeFileSync(file, `${JSON.stringify(Object.fromEntries(rows.map((row) => [row.id, row.stock])))}\n`);
  } finally {
    await client.end();
  }
}

/** Every side-effect job BullMQ still holds, with the order it names; a reason string when Redis does
 * not answer. `url` may name a Redis Cluster (redis+cluster://…), as REDIS_URL may. */
async function readJobs({ url, prefix }: { url: string; prefix: string }): Promise<JobFacts[] | string> {
  const target = redisTarget(url, undefined);
  const connection = clientFor(
    target,
    { maxRetriesPerRequest: 1, lazyConnect: true, enableOfflineQueue: false },
    { lazyConnect: true, enableOfflineQueue: false },
  );
  try {
    await connection.connect();
  } catch (error) {
    connection.disconnect();
    return `Redis at ${url} did not answer: ${error instanceof Error ? error.message : String(error)}`;
  }
  try {
    const found: JobFacts[] = [];
    for (const step of SIDE_EFFECT_STEPS) {
      const queue = new Queue(step, { connection, prefix: queuePrefixFor(target, prefix, step) });
      try {
        for (const job of await queue.getJobs([...JOB_STATES, "prioritized", "waiting-children"])) {
          if (!job?.id) continue;
          const data = sideEffectJobSchema.safeParse(job.data);
          found.push({ queue: step, id: job.id, orderId: data.success ? data.data.orderId : null });
        }
      } finally {
        await queue.close();
      }
    }
    return found;
  } finally {
    await connection.quit();
  }
}
