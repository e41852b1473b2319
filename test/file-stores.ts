// Each integration test file's own database and Redis prefix, so files run in parallel without
// seeing each other's orders, outbox rows, queues or knobs. The test database (TEST_DATABASE_URL) is
// the template: the global setup migrates it once, and each file gets `<template>__<run>_<file>`, a
// copy made by CREATE DATABASE … TEMPLATE (milliseconds, where migrating anew takes seconds), and the
// prefix `<TEST_REDIS_PREFIX>--<run>-<file>`. Both names derive from the knobs, so two checkouts that
// set different knobs never meet; `<run>` is the vitest process's pid (TEST_RUN, vitest.config.ts), so
// two runs of one checkout never meet either. A file drops its stores when it ends; the global setup
// sweeps the ones of runs no longer alive (a killed run's), before a run and after it.
import { basename } from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { DEFAULT_SHOP_CAPACITY, PRESETS, type Settings } from "../server/contract";
import { testDatabaseUrl, testRedisPrefix } from "./stores";

const templateName = databaseName(testDatabaseUrl);
/** The Redis the tests share, read before a test points REDIS_URL at a private one. */
const sharedRedisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** Postgres truncates identifiers at 63 bytes. */
const MAX_NAME = 63;
/** The vitest run this process belongs to. */
const run = process.env.TEST_RUN ?? String(process.pid);
const fileDatabase = new RegExp(`^${escapeRegExp(templateName)}__(\\d+)_`);
const filePrefix = new RegExp(`^${escapeRegExp(testRedisPrefix)}--(\\d+)-`);

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A run's stores may go when it is this one (at its end) or its process is gone. */
function mayGo(runOf: string | undefined): boolean {
  if (runOf === undefined) return false;
  if (runOf === run) return true;
  try {
    process.kill(Number(runOf), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `test/side-effects.test.ts` → `side_effects`. */
function fileSlug(testPath: string): string {
  return basename(testPath)
    .replace(/\.test\.ts$/, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_");
}

/** The knobs every file starts with: each simulated service instant and healthy, and a test adds the
 * latency or fault it is about (as the browser tests' shop fixture does). A new prefix would otherwise
 * start with the realistic knobs: seconds of latency, with jitter, under every knob a test leaves alone. */
export const FAST_SETTINGS: Settings = {
  defaultMode: "async",
  services: PRESETS["all-fast"].services,
  shop: DEFAULT_SHOP_CAPACITY,
};

export interface FileStores {
  databaseUrl: string;
  redisPrefix: string;
  close(): Promise<void>;
}

async function withMaintenance<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(testDatabaseUrl);
  url.pathname = "/postgres";
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function withRedis<T>(work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(sharedRedisUrl, { lazyConnect: true });
  await redis.connect();
  try {
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key whose name starts with `prefix`. */
async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  for await (const keys of redis.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<
    string[]
  >) {
    if (keys.length > 0) await redis.unlink(...keys);
  }
}

async function dropDatabase(client: pg.Client, name: string): Promise<void> {
  await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
}

/** Creates the calling file's database (a copy of the migrated template) and empties its Redis
 * prefix, replacing any a killed run left behind. */
export async function openFileStores(testPath: string): Promise<FileStores> {
  const slug = fileSlug(testPath);
  const name = `${templateName}__${run}_${slug}`.slice(0, MAX_NAME);
  const databaseUrl = new URL(testDatabaseUrl);
  databaseUrl.pathname = `/${encodeURIComponent(name)}`;
  const redisPrefix = `${testRedisPrefix}--${run}-${slug.replaceAll("_", "-")}`;
  await withMaintenance(async (client) => {
    await dropDatabase(client, name);
    await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(templateName)}`);
  });
  await withRedis(async (redis) => {
    await deleteKeys(redis, `${redisPrefix}:`);
    // Where server/downstream/settings.ts keeps them (it cannot be imported here: server code reads
    // its environment once, and a test file sets its own before importing it).
    await redis.set(`${redisPrefix}:settings`, JSON.stringify(FAST_SETTINGS));
  });
  return {
    databaseUrl: databaseUrl.toString(),
    redisPrefix,
    close: async () => {
      await withMaintenance((client) => dropDatabase(client, name));
      await withRedis((redis) => deleteKeys(redis, `${redisPrefix}:`));
    },
  };
}

/** Drops the file databases of this template (and the databases a file named after its own) and the
 * keys under a file prefix of TEST_REDIS_PREFIX, of this run and of runs no longer alive. */
export async function sweepFileStores(): Promise<void> {
  await withMaintenance(async (client) => {
    const { rows } = await client.query<{ datname: string }>("SELECT datname FROM pg_database");
    for (const { datname } of rows)
      if (mayGo(fileDatabase.exec(datname)?.[1])) await dropDatabase(client, datname);
  });
  await withRedis(async (redis) => {
    const runs = new Set<string>();
    for await (const keys of redis.scanStream({
      match: `${testRedisPrefix}--*`,
      count: 1000,
    }) as AsyncIterable<string[]>)
      for (const key of keys) {
        const runOf = filePrefix.exec(key)?.[1];
        if (runOf !== undefined) runs.add(runOf);
      }
    for (const runOf of runs) if (mayGo(runOf)) await deleteKeys(redis, `${testRedisPrefix}--${runOf}-`);
  });
}
