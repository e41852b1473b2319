// How the API is served over HTTP: the web process mounts it (server/main.ts), and the HTTP tests
// serve exactly the same thing on a port of their own.
import type { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { BUSY_RETRY_AFTER_S } from "../checkout/admission";
import { AppError, MAX_BATCH_SIZE } from "../contract";
import { createContext } from "./init";
import { appRouter } from "./root";

export const API_BASE_PATH = "/api/trpc/";

export const apiHandlerOptions = {
  router: appRouter,
  createContext,
  basePath: API_BASE_PATH,
  maxBodySize: 100_000,
  // The shop's own client batches a handful of calls at once; nobody needs a thousand in one request.
  maxBatchSize: MAX_BATCH_SIZE,
  responseMeta: ({ errors }: { errors: { cause?: unknown }[] }) =>
    errors.some((error) => error.cause instanceof AppError && error.cause.code === "BUSY")
      ? { headers: { "retry-after": String(BUSY_RETRY_AFTER_S) } }
      : {},
  onError({ error, path }: { error: { code: string; cause?: unknown }; path?: string }) {
    if (error.code === "INTERNAL_SERVER_ERROR")
      console.error(`tRPC ${path ?? "?"} failed:`, error.cause ?? error);
  },
} satisfies Parameters<typeof createHTTPHandler<typeof appRouter>>[0];
