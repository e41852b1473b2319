// How the API is served over HTTP: the web process mounts it (server/main.ts), and the HTTP tests
// serve exactly the same thing on a port of their own.
import type { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { BUSY_RETRY_AFTER_S } from "../checkout/admission";
import { AppError, type AppErrorCode, MAX_BATCH_SIZE } from "../contract";
import { log } from "../log";
import { createContext } from "./init";
import { appRouter } from "./root";

export const API_BASE_PATH = "/api/trpc/";

/** Answers a client may retry after a while, and how long that while is (seconds): a store's restart
 * takes a few seconds. */
const RETRY_AFTER_S: Partial<Record<AppErrorCode, number>> = {
  BUSY: BUSY_RETRY_AFTER_S,
  DATABASE_UNAVAILABLE: 5,
  REDIS_UNAVAILABLE: 5,
};

export const apiHandlerOptions = {
  router: appRouter,
  createContext,
  basePath: API_BASE_PATH,
  maxBodySize: 100_000,
  // The shop's own client batches a handful of calls at once; nobody needs a thousand in one request.
  maxBatchSize: MAX_BATCH_SIZE,
  responseMeta: ({ errors }: { errors: { cause?: unknown }[] }) => {
    const waits = errors.map((error) =>
      error.cause instanceof AppError
        ? (error.cause.details.retryAfterS ?? RETRY_AFTER_S[error.cause.code] ?? 0)
        : 0,
    );
    const retryAfterS = Math.max(0, ...waits);
    return retryAfterS > 0 ? { headers: { "retry-after": String(retryAfterS) } } : {};
  },
  onError({ error, path }: { error: { code: string; cause?: unknown }; path?: string }) {
    if (error.code === "INTERNAL_SERVER_ERROR")
      log.error({ err: error.cause ?? error, path }, "request failed");
  },
} satisfies Parameters<typeof createHTTPHandler<typeof appRouter>>[0];
