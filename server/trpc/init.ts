// The one initTRPC: context (the shopper's session), the error shape clients see, and the procedures
// routers may use. Domain errors (AppError) become tRPC errors with a code and a readable message;
// invalid input comes back as 400 with zod's flattened issues; nothing else leaks.
import { initTRPC, TRPCError } from "@trpc/server";
import type { CreateHTTPContextOptions } from "@trpc/server/adapters/standalone";
import { z } from "zod";
import { config } from "../config";
import { AppError, type AppErrorCode } from "../contract";
import { newSession, readSession } from "../session";

export interface Context {
  /** The caller's session, or null if it has none yet. */
  sessionId: string | null;
  /** The caller's session, created (and its cookie set) if it has none yet. */
  ensureSession: () => string;
}

/** For tests and scripts: a context for a given session, no HTTP. */
export function contextForSession(sessionId: string | null): Context {
  let current = sessionId;
  return {
    get sessionId() {
      return current;
    },
    ensureSession: () => {
      current ??= newSession().id;
      return current;
    },
  };
}

export function createContext({ req, res }: CreateHTTPContextOptions): Context {
  let sessionId = readSession(req.headers.cookie);
  return {
    get sessionId() {
      return sessionId;
    },
    ensureSession: () => {
      if (!sessionId) {
        const session = newSession();
        sessionId = session.id;
        res.appendHeader("set-cookie", session.cookie);
      }
      return sessionId;
    },
  };
}

const TRPC_CODES: Record<AppErrorCode, TRPCError["code"]> = {
  BAD_REQUEST: "BAD_REQUEST",
  NOT_FOUND: "NOT_FOUND",
  FORBIDDEN: "FORBIDDEN",
  OUT_OF_STOCK: "CONFLICT",
  IDEMPOTENCY_CONFLICT: "UNPROCESSABLE_CONTENT",
  PAYMENT_DECLINED: "PAYMENT_REQUIRED",
  DEPENDENCY_FAILED: "BAD_GATEWAY",
  STILL_PROCESSING: "CONFLICT",
  BUSY: "SERVICE_UNAVAILABLE",
};

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const appError = error.cause instanceof AppError ? error.cause : null;
    const zodError = error.cause instanceof z.ZodError ? error.cause : null;
    const internal = error.code === "INTERNAL_SERVER_ERROR";
    return {
      ...shape,
      message: internal ? "Something went wrong on our side. Nothing was charged." : shape.message,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        appCode: appError?.code ?? null,
        details: appError?.details ?? null,
        fieldErrors: zodError ? z.flattenError(zodError).fieldErrors : null,
        formErrors: zodError ? z.flattenError(zodError).formErrors : null,
      },
    };
  },
});

const appErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: TRPC_CODES[cause.code], message: cause.message, cause });
  }
  return result;
});

const devToolsEnabled = t.middleware(({ next }) => {
  if (config.DEV_TOOLS !== "on")
    throw new TRPCError({ code: "FORBIDDEN", message: "Developer tools are off" });
  return next();
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(appErrors);
export const devProcedure = publicProcedure.use(devToolsEnabled);
