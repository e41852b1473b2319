// Structured logs (pino): one JSON object per line on stdout, so an operator's log pipeline can follow
// an order across processes by its fields (orderId, jobId, step, attempt); one readable line each with
// LOG_FORMAT=pretty. Faults of the stores (Redis, Postgres) are logged when they start and when they
// end, once each, however many reconnect attempts and failed calls lie in between.
import pino, { type Logger } from "pino";
import pretty from "pino-pretty";
import { config } from "./config";

export type { Logger };

/** Which process wrote a line: `npm start` interleaves the web process's and the worker's. */
let processName: "web" | "worker" | null = null;

const format = config.LOG_FORMAT ?? (config.NODE_ENV === "development" ? "pretty" : "json");

export const log: Logger = pino(
  {
    level: config.LOG_LEVEL,
    mixin: () => (processName ? { process: processName } : {}),
    // Our own fields stay in the JSON as they are; an error goes under `err` with its stack.
    serializers: { err: pino.stdSerializers.err },
  },
  // Synchronous either way: a line written just before process.exit() is not lost.
  format === "pretty"
    ? pretty({
        sync: true,
        colorize: process.stdout.isTTY,
        singleLine: true,
        ignore: "pid,hostname",
        translateTime: "SYS:HH:MM:ss.l",
      })
    : pino.destination({ dest: 1, sync: true }),
);

export function nameProcess(name: "web" | "worker"): void {
  processName = name;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A dependency's outage as an operator sees it: "lost" once when it starts, "back" once when it ends
 * (with how long it lasted), whatever happens in between. */
export class Outage {
  private since: number | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  get down(): boolean {
    return this.since !== null;
  }

  lost(error?: unknown): void {
    if (this.since !== null) return;
    this.since = Date.now();
    this.logger.warn({ error: error === undefined ? undefined : messageOf(error) }, `${this.what} lost`);
  }

  back(): void {
    if (this.since === null) return;
    const downMs = Date.now() - this.since;
    this.since = null;
    this.logger.info({ downMs }, `${this.what} back`);
  }
}

export const redisOutage = new Outage(log.child({ component: "redis" }), "Redis connection");
export const databaseOutage = new Outage(log.child({ component: "postgres" }), "Postgres connection");

/** SQLSTATEs of a connection cut or refused: class 08 (connection exception), 57P01–57P03 (the server
 * shutting down, crashed, or not accepting connections yet). */
const CONNECTION_SQLSTATE = /^(08...|57P0[123])$/;
/** Prisma's codes for a database it cannot reach (P1001), that timed out (P1002) or closed (P1017). */
const PRISMA_CONNECTION_CODES = new Set(["P1001", "P1002", "P1017"]);
/** @prisma/adapter-pg's kinds for the same. */
const ADAPTER_CONNECTION_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout"]);
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
]);
/** pg's own words when the socket goes away without a Postgres error. */
const PG_CONNECTION_MESSAGE = /^Connection terminated|^Client has encountered a connection error/;
/** ioredis' (and ours, server/redis.ts) when a command meets a connection that is away. */
const REDIS_CONNECTION_MESSAGE =
  /^Connection is closed|max retries per request|^Stream isn't writeable|^Redis is unreachable/i;

function portOf(url: string): string {
  const parsed = new URL(url);
  return parsed.port || (parsed.protocol.startsWith("redis") ? "6379" : "5432");
}

/** The ports Redis answers on: the one server's, or every Redis Cluster node's this process was given. */
function redisPorts(): string[] {
  const target = config.redis;
  return target.kind === "single" ? [portOf(target.url)] : target.nodes.map(({ port }) => String(port));
}

function fieldOf(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** The error and its causes, including Prisma's record of the driver adapter's error. */
function* chain(error: unknown): Generator<unknown> {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    yield current;
    const adapterCause = fieldOf(fieldOf(fieldOf(current, "meta"), "driverAdapterError"), "cause");
    if (adapterCause) yield adapterCause;
    current = fieldOf(current, "cause");
  }
}

/** Which store an error says is unreachable (a connection refused, cut or timed out), if any. Anything
 * else (a constraint, a bug, a timeout of our own) is null. */
export function unreachableStore(error: unknown): "postgres" | "redis" | null {
  for (const link of chain(error)) {
    const code = fieldOf(link, "code");
    const kind = fieldOf(link, "kind");
    const message = String(fieldOf(link, "message") ?? "");
    if (typeof code === "string" && (CONNECTION_SQLSTATE.test(code) || PRISMA_CONNECTION_CODES.has(code)))
      return "postgres";
    if (kind === "postgres" && typeof code === "string" && CONNECTION_SQLSTATE.test(code)) return "postgres";
    if (typeof kind === "string" && ADAPTER_CONNECTION_KINDS.has(kind)) return "postgres";
    if (PG_CONNECTION_MESSAGE.test(message)) return "postgres";
    if (REDIS_CONNECTION_MESSAGE.test(message) || fieldOf(link, "name") === "MaxRetriesPerRequestError")
      return "redis";
    if (typeof code === "string" && SOCKET_CODES.has(code)) {
      const port = String(fieldOf(link, "port") ?? "");
      if (port === portOf(config.DATABASE_URL)) return "postgres";
      if (redisPorts().includes(port)) return "redis";
    }
  }
  return null;
}

/** Records an error that may be a store's outage: the outage is logged once (and its end by whoever
 * sees the store again); anything else is left to the caller. Returns whether it was an outage. */
export function noteOutage(error: unknown): boolean {
  const store = unreachableStore(error);
  if (store === "postgres") databaseOutage.lost(error);
  if (store === "redis") redisOutage.lost(error);
  return store !== null;
}

/** For 'error' events and background work that fails over and over during an outage (ioredis reports
 * every reconnect attempt): a store's outage is logged once by its Outage, anything else once per
 * distinct message. */
export function errorReporter(label: string, logger: Logger = log): (error: unknown) => void {
  let last = "";
  return (error) => {
    if (noteOutage(error)) return;
    const message = messageOf(error);
    if (message === last) return;
    last = message;
    logger.error({ err: error }, `${label} failed`);
  };
}
