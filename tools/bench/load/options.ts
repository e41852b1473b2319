// bench:load's command line and the constants every part of it shares: the scenarios (shoppers, mode,
// slow providers, consumers), how long a scenario may take at most, the bench's Redis prefix.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { loadConfig } from "../../../server/config";
import { type CheckoutMode, MAX_SHOPPERS, type OrderStatus } from "../../../server/contract";
import { readCommandLine } from "../../lib/flags";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export const MAX_SCENARIO_S = 600;

export const PREFIX = "storefront-bench-load";

export const FINAL_STATUSES: OrderStatus[] = ["completed", "cancelled", "failed"];

/** An idle backend may hold its transaction counts up to 10 s before publishing them to
 * pg_stat_database (PostgreSQL 15's PGSTAT_IDLE_INTERVAL), so counters are read after this. */
export const STATS_SETTLE_MS = 10_500;

/** Jobs a worker runs at once per queue when the consumers knob does not say (the server's default). */
export const WORKER_CONCURRENCY_DEFAULT = loadConfig(process.env).WORKER_CONCURRENCY;

/** `consumers`: jobs the worker runs at once per queue (the /dev knob); without it, WORKER_CONCURRENCY
 * (50): 100 jobs/s per queue with 500 ms side effects. The scaled run gives each queue what a rush of
 * ~230 orders/s needs by Little's law (230 × 0.5 s ≈ 115 jobs in flight), with room to drain.
 * `readers`: closed-loop catalog readers beside the shoppers (1 unless said). "32-catalog" has readers
 * only: what the same server answers to 32 clients that only read, the yardstick of 32 shoppers' orders.
 * The slow scenarios measure `--slow-duration` s (a backlog that grows for a minute, not a few seconds). */
export const SCENARIOS = {
  "1-async": { shoppers: 1, mode: "async", slow: false },
  "1-sync": { shoppers: 1, mode: "sync", slow: false },
  "32-async": { shoppers: 32, mode: "async", slow: false },
  "32-catalog": { shoppers: 0, readers: 32, mode: "async", slow: false },
  "100-async-slow": { shoppers: 100, mode: "async", slow: true },
  "100-async-slow-scaled": { shoppers: 100, mode: "async", slow: true, consumers: 200 },
  "100-sync-slow": { shoppers: 100, mode: "sync", slow: true },
} as const satisfies Record<string, Scenario>;
export interface Scenario {
  shoppers: number;
  readers?: number;
  mode: CheckoutMode;
  slow: boolean;
  consumers?: number;
}

export type ScenarioName = keyof typeof SCENARIOS;

const scenarioNames = Object.keys(SCENARIOS) as [ScenarioName, ...ScenarioName[]];

const optionsSchema = z
  .object({
    scenarios: z
      .string()
      .transform((list) => list.split(",").map((name) => name.trim()))
      .pipe(z.array(z.enum(scenarioNames)).min(1)),
    runs: z.coerce.number().int().min(1).max(20),
    duration: z.coerce.number().min(1),
    "slow-duration": z.coerce.number().min(1),
    warmup: z.coerce.number().min(0).max(60),
    "no-build": z.boolean(),
    statements: z.boolean(),
    json: z.boolean(),
    "redis-cluster": z.boolean(),
    help: z.boolean(),
  })
  .refine((o) => Math.max(o.duration, o["slow-duration"]) + o.warmup <= MAX_SCENARIO_S - 180, {
    message: `--duration (and --slow-duration) + --warmup must leave 3 minutes of the ${MAX_SCENARIO_S} s scenario cap for drains`,
  });

const USAGE = `usage: npm run bench:load -- [--scenarios ${scenarioNames.join(",")}] [--runs 3] [--duration 15] [--slow-duration 60] [--warmup 3] [--no-build] [--statements] [--json] [--redis-cluster]`;

export const options = readCommandLine(
  "bench-load",
  {
    scenarios: { type: "string", default: scenarioNames.join(",") },
    runs: { type: "string", default: "3" },
    duration: { type: "string", default: "15" },
    "slow-duration": { type: "string", default: "60" },
    warmup: { type: "string", default: "3" },
    "no-build": { type: "boolean", default: false },
    statements: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    "redis-cluster": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
  optionsSchema,
  USAGE,
);

if (options.scenarios.some((name) => SCENARIOS[name].shoppers > MAX_SHOPPERS)) {
  throw new Error(`at most ${MAX_SHOPPERS} shoppers`);
}
