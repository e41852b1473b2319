// The only reader of process.env. Every setting has a local default so `npm run shop` works on a
// fresh machine; a bad value stops the process at start with a message naming the variable.
import { z } from "zod";

const configSchema = z.object({
  DATABASE_URL: z.url().default("postgresql://postgres@127.0.0.1:5432/storefront"),
  REDIS_URL: z.url().default("redis://127.0.0.1:6379"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Namespace for everything this deployment keeps in Redis (queues, knobs, socket.io). */
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]+$/i, "letters, digits, - and _ only")
    .default("storefront"),
  /** The developer console and the dev.* procedures; on by default in this demo. */
  DEV_TOOLS: z.enum(["on", "off"]).default("on"),
  /** How long a worker's job lock lasts. A crashed worker's job is retried once its lock has expired and
   * two of BullMQ's stalled-job checks (one per this interval, per queue) have seen it: within about
   * three times this long. */
  WORKER_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  /** Postgres connections per process. Past ~16 busy connections Postgres slows down on 2 cores; two
   * processes (web + worker) of 10 each stay under that. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /** Checkouts one web process runs at once; the next ones wait briefly for a slot (admission
   * control, before anything is written), then get 503 + Retry-After. */
  CHECKOUT_SLOTS: z.coerce.number().int().min(1).max(10_000).default(200),
  /** How long a checkout request waits (for a free slot, or for the first request with the same
   * idempotency key to answer) before it is told to try again (503, or 409 "still processing"). */
  CHECKOUT_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(3_000),
  /** Jobs one worker process runs at once, per side-effect queue. Side effects mostly wait on their
   * provider, so this is how many provider calls are in flight: see the README's "Keeping up". */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(50),
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
});

export type Config = z.infer<typeof configSchema>;

function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = configSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
  throw new Error(`Invalid environment:\n${problems.join("\n")}`);
}

export const config = loadConfig(process.env);
