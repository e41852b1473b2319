// The only reader of process.env. Every setting has a local default so `npm run shop` works on a
// fresh machine; a bad value stops the process at start with a message naming the variable.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { isLoopback } from "./contract/hosts";
import { RedisTargetError, redisTarget } from "./redis-target";

export { isLoopback };

/** A comma-separated list of origins ("https://shop.example.com,http://10.0.0.5:3000"), each kept as
 * its canonical `scheme://host[:port]`. */
const originList = z
  .string()
  .transform((text) =>
    text
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.url({ protocol: /^https?$/, error: "each entry must be an http(s) origin" })))
  .transform((urls) => urls.map((url) => new URL(url).origin));

/** What a checkout still does once its deadline has passed, before its order leaves the states the
 * sweeper takes for abandoned (pending, or placed and unanswered): a handful of statements (record the
 * step cut off, read the order and the provider records, the claim that fails it). Generous, for a
 * busy database. */
export const CHECKOUT_WIND_DOWN_MS = 5_000;

/** How long a stopping process (web or worker) lets the work in flight finish before it exits: a
 * synchronous checkout takes seconds, a side effect as long as its provider. Work cut short is finished
 * as after a crash: the sweeper undoes a checkout, BullMQ delivers a job again (its effects still
 * happen once: idempotency keys). */
export const SHUTDOWN_GRACE_MS = 30_000;

/** Keys that have been printed in this project's documentation: never a secret. */
export const EXAMPLE_DEV_TOOLS_KEYS: readonly string[] = ["a-long-secret-you-tell-your-colleagues"];

const configSchema = z.object({
  DATABASE_URL: z.url().default("postgresql://postgres@127.0.0.1:5432/storefront"),
  /** One Redis (`redis://` or `rediss://`), or a Redis Cluster: `redis+cluster://host1:7000,host2:7001`
   * (`rediss+cluster://` for TLS; `user:password@` before the first node). See redisTarget(). */
  REDIS_URL: z.string().optional(),
  /** A Redis Cluster's nodes without credentials, `host1:7000,host2:7001` (any few of them: the client
   * learns the rest): the same as REDIS_URL=redis+cluster://…, for deployments that list nodes apart. */
  REDIS_CLUSTER_NODES: z.string().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** The address the web process listens on. Loopback by default: only this machine can reach it.
   * `0.0.0.0` (or `::`) opens it to the network, which requires DEV_TOOLS_KEY or DEV_TOOLS=off. */
  HOST: z.string().min(1).default("127.0.0.1"),
  /** Namespace for everything this deployment keeps in Redis (queues, knobs, socket.io). */
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]+$/i, "letters, digits, - and _ only")
    .default("storefront"),
  /** The developer console and the dev.* procedures; on by default in this demo. */
  DEV_TOOLS: z.enum(["on", "off"]).default("on"),
  /** When set, the developer tools answer only a browser that entered this key once in /dev (kept in an
   * httpOnly cookie). Required when the shop is reachable from other machines. */
  DEV_TOOLS_KEY: z.preprocess(
    (value) => (value === "" ? undefined : value),
    z
      .string()
      .min(16, "use at least 16 characters")
      .refine(
        (key) => !EXAMPLE_DEV_TOOLS_KEYS.includes(key),
        "that is the README's example, which everyone can read: choose a secret of your own (openssl rand -base64 24)",
      )
      .optional(),
  ),
  /** Developer tools cookies issued before this moment (ISO 8601) are refused: set it to now and restart
   * to lock out every browser (a lost laptop's too) without changing DEV_TOOLS_KEY. */
  DEV_TOOLS_NOT_BEFORE: z.preprocess(
    (value) => (value === "" ? undefined : value),
    z.iso
      .datetime({ offset: true, error: "use an ISO 8601 time, such as 2026-12-07T10:00:00Z" })
      .transform((text) => new Date(text))
      .optional(),
  ),
  /** Other origins whose pages may call the API and open sockets, besides the shop's own. */
  ALLOWED_ORIGINS: originList.default([]),
  /** Behind a reverse proxy (nginx, a TLS terminator): believe its X-Forwarded-Proto / X-Forwarded-Host
   * headers. The shop then counts as reachable from the network. */
  TRUST_PROXY: z.enum(["on", "off"]).default("off"),
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
  /** replayable (default): a worker's commits do not wait for the write-ahead log's flush, since every
   * change it makes is made again if a crash loses it (see commitReplayably in server/db.ts); durable:
   * every commit waits, as the web process's always do (to measure what the flush costs). */
  WORKER_COMMITS: z.enum(["replayable", "durable"]).default("replayable"),
  /** Prometheus metrics at GET /metrics, on the web port and on each worker's own port.
   * follow-dev-tools (default): on exactly when DEV_TOOLS is. Whatever this says, a scrape from another
   * machine must carry DEV_TOOLS_KEY (`Authorization: Bearer …`); without a key only this machine may
   * scrape (see server/http/auth/metrics.ts). */
  METRICS: z.enum(["on", "off", "follow-dev-tools"]).default("follow-dev-tools"),
  /** The worker process's metrics port. 0 picks a free one: run several workers on one machine that
   * way; each registers its address in Redis and the web process finds them all. */
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** Where the worker's metrics server listens. Loopback by default, like the web process. */
  WORKER_METRICS_HOST: z.string().min(1).default("127.0.0.1"),
  /** How often each worker process looks for side effects whose job Redis lost (a restart without its
   * append-only file, a flush) and hands them to the outbox again. One indexed query over live orders
   * plus one job lookup per unfinished step, so every few seconds is cheap. */
  RECONCILE_EVERY_MS: z.coerce.number().int().min(200).max(3_600_000).default(15_000),
  /** How long a checkout may take, in any mode, from the moment it arrives: past it the provider calls
   * it still waits for are cut off (before the provider did anything), no retry starts, and the order
   * fails and is compensated. Bounds a synchronous checkout whatever the knobs say (a call may
   * otherwise wait 30 s for a slot and take 20 s, per attempt, per step). */
  CHECKOUT_DEADLINE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(300_000),
  /** How old an unfinished checkout must be before the worker's sweeper calls it abandoned and gives
   * its stock and authorization back. It must outlast the slowest live checkout, or a checkout still
   * running would be compensated under the shopper (its confirmation is then refused): it must exceed
   * CHECKOUT_DEADLINE_MS + CHECKOUT_WIND_DOWN_MS, which the process checks at start. A chaos soak with
   * fast knobs may use seconds (with a deadline of seconds too). */
  SWEEPER_GRACE_MS: z.coerce.number().int().min(1000).max(86_400_000).default(600_000),
  /** For the chaos soak only: a share of the checkout confirmations whose answer is lost after their
   * commit, as a Postgres crash at that instant would lose it (server/faults.ts), so a soak reaches that
   * path on purpose. 0 (default): none. */
  CHAOS_LOST_ANSWERS: z.coerce.number().min(0).max(1).default(0),
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  /** The least severe log lines written (pino's levels); `silent` writes none. */
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** json: one JSON object per line, for a log pipeline (the default but in development); pretty: one
   * coloured line each, for a person at a terminal (`npm run shop` and `npm run dev` set it). */
  LOG_FORMAT: z.enum(["json", "pretty"]).optional(),
});

/** The settings, and what they must satisfy together. */
const checkedConfigSchema = configSchema.superRefine((settings, context) => {
  const slowest = settings.CHECKOUT_DEADLINE_MS + CHECKOUT_WIND_DOWN_MS;
  const room = settings.SWEEPER_GRACE_MS - CHECKOUT_WIND_DOWN_MS;
  if (settings.SWEEPER_GRACE_MS <= slowest) {
    context.addIssue({
      code: "custom",
      path: ["SWEEPER_GRACE_MS"],
      message:
        `${settings.SWEEPER_GRACE_MS} ms would sweep checkouts still running: the slowest takes ` +
        `CHECKOUT_DEADLINE_MS (${settings.CHECKOUT_DEADLINE_MS} ms) + ${CHECKOUT_WIND_DOWN_MS} ms to fail ` +
        `it. Set SWEEPER_GRACE_MS above ${slowest}` +
        (room > 1000 ? `, or CHECKOUT_DEADLINE_MS below ${room}.` : "."),
    });
  }
});

/** The settings, with REDIS_URL filled in (the default, or the cluster REDIS_CLUSTER_NODES names) and
 * read into `redis`. */
const resolvedConfigSchema = checkedConfigSchema.transform((settings, context) => {
  try {
    const redis = redisTarget(settings.REDIS_URL, settings.REDIS_CLUSTER_NODES);
    const url =
      redis.kind === "single"
        ? redis.url
        : (settings.REDIS_URL ??
          `redis+cluster://${redis.nodes.map(({ host, port }) => `${host}:${port}`).join(",")}`);
    return { ...settings, REDIS_URL: url, redis };
  } catch (error) {
    if (!(error instanceof RedisTargetError)) throw error;
    context.addIssue({
      code: "custom",
      path: [error.variable],
      message: error.message.slice(error.variable.length + 2),
    });
    return z.NEVER;
  }
});

export type Config = z.output<typeof resolvedConfigSchema>;

/** Why other machines may reach the web process, judged from its settings alone; null: only this
 * machine can. Listening beyond loopback, being told a proxy serves it, or being told that pages of a
 * non-loopback origin call it (which only a proxy or a forwarded port can make happen). */
export function networkExposure(settings: Config): string | null {
  if (!isLoopback(settings.HOST)) return `HOST=${settings.HOST}`;
  if (settings.TRUST_PROXY === "on") return "TRUST_PROXY=on (served through a proxy)";
  const remote = settings.ALLOWED_ORIGINS.filter((origin) => !isLoopback(new URL(origin).hostname));
  return remote.length > 0 ? `ALLOWED_ORIGINS=${remote.join(",")} (served to other machines)` : null;
}

/** Why the web process must not start with these settings, or null. The developer tools read every
 * shopper's orders and switch the shop's dependencies off, so the network never gets them unlocked. */
export function exposureProblem(settings: Config): string | null {
  if (settings.DEV_TOOLS !== "on" || settings.DEV_TOOLS_KEY) return null;
  const where = networkExposure(settings);
  if (!where) return null;
  return (
    `Refusing to start: ${where} makes the shop reachable from other machines, and the developer tools ` +
    "(every customer's orders and email, the fault knobs, the queues) would be open to all of them. " +
    `Set DEV_TOOLS_KEY to a secret of 16+ characters, entered once in /dev (a fresh one: ` +
    `DEV_TOOLS_KEY=${randomBytes(18).toString("base64url")}), or DEV_TOOLS=off, or listen on 127.0.0.1 ` +
    "with no proxy in front."
  );
}

/** Whether /metrics is served at all (METRICS, or DEV_TOOLS when it follows them). */
export function metricsEnabled(settings: Config): boolean {
  return settings.METRICS === "follow-dev-tools" ? settings.DEV_TOOLS === "on" : settings.METRICS === "on";
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = resolvedConfigSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
  throw new Error(`Invalid environment:\n${problems.join("\n")}`);
}

export const config = loadConfig(process.env);
