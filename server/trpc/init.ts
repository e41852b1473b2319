// The one initTRPC: context (the shopper's session), the error shape clients see, and the procedures
// routers may use. Domain errors (AppError) become tRPC errors with a code and a readable message;
// invalid input comes back as 400 with a readable message and zod's flattened issues; nothing else
// leaks. Writes are checked here, at the edge, before any procedure runs: JSON only, and from the
// shop's own pages (or from no page at all).
import { initTRPC, TRPCError } from "@trpc/server";
import type { CreateHTTPContextOptions } from "@trpc/server/adapters/standalone";
import { z } from "zod";
import { AppError, type AppErrorCode, describeIssues, wellFormedValue } from "../contract";
import { type DevToolsAccess, devToolsAccess, inProcessAccess, lockedMessage } from "../http/auth/dev-tools";
import { clientAddress, crossSiteReason, isHttps } from "../http/edge";
import { arrivalOf } from "../http/metrics";
import { type Limit, spend } from "../http/rate-limit";
import { wasRefused } from "../http/request-slots";
import { newSession, readSession } from "../http/session";
import { noteOutage, unreachableStore } from "../log";
import { redis, unavailable } from "../redis";

export interface Context {
  /** The caller's session, or null if it has none yet. */
  sessionId: string | null;
  /** The caller's session, created (and its cookie set) if it has none yet. */
  ensureSession: () => string;
  /** What the caller may do with the developer tools. */
  devTools: DevToolsAccess;
  /** Who is asking, for limits per client (an address; "in-process" without HTTP). */
  client: string;
  /** Whether the browser reached us over HTTPS (its cookies then say `Secure`). */
  secure: boolean;
  setCookie: (cookie: string) => void;
  /** When the HTTP request arrived at the web process (performance.now() ms); none without HTTP. */
  arrivedAt?: number;
}

/** For tests and scripts: a context for a given session, no HTTP (a trusted caller in this process). */
export function contextForSession(sessionId: string | null): Context {
  let current = sessionId;
  return {
    get sessionId() {
      return current;
    },
    ensureSession: () => {
      current ??= newSession({ secure: false }).id;
      return current;
    },
    devTools: inProcessAccess(),
    client: "in-process",
    secure: false,
    setCookie: () => {},
  };
}

const JSON_TYPE = /^application\/json\s*(;|$)/i;

export function createContext({ req, res, info }: CreateHTTPContextOptions): Context {
  if (wasRefused(req)) {
    throw toTRPCError(new AppError("BUSY", "The shop is very busy right now. Please try again in a moment."));
  }
  // One procedure once per batch: a batch is a shortcut for the shop's own pages, not a way to ask for
  // the same expensive answer ten times in one request.
  const paths = info.calls.map((call) => call.path);
  const repeated = paths.find((path, index) => paths.indexOf(path) !== index);
  if (repeated) {
    throw toTRPCError(
      new AppError(
        "BAD_REQUEST",
        `A batch may call each procedure once; ${repeated} is in it more than once.`,
      ),
    );
  }
  // (A GET of a mutation is refused by tRPC itself: 405.)
  if (info.type === "mutation" && req.method === "POST") {
    // Forms and other "simple" encodings can be sent by any site without a preflight: refuse them.
    if (!JSON_TYPE.test(req.headers["content-type"] ?? "")) {
      throw toTRPCError(new AppError("UNSUPPORTED_MEDIA_TYPE", "Send changes as application/json."));
    }
    const crossSite = crossSiteReason(req);
    if (crossSite) throw toTRPCError(new AppError("FORBIDDEN", crossSite));
  }
  const secure = isHttps(req);
  const setCookie = (cookie: string) => res.appendHeader("set-cookie", cookie);
  let sessionId = readSession(req.headers.cookie);
  return {
    get sessionId() {
      return sessionId;
    },
    ensureSession: () => {
      if (!sessionId) {
        const session = newSession({ secure });
        sessionId = session.id;
        setCookie(session.cookie);
      }
      return sessionId;
    },
    devTools: devToolsAccess(req),
    client: clientAddress(req),
    secure,
    setCookie,
    arrivedAt: arrivalOf(req),
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
  DATABASE_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  REDIS_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  UNAUTHORIZED: "UNAUTHORIZED",
  UNSUPPORTED_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  TOO_MANY_REQUESTS: "TOO_MANY_REQUESTS",
  ALREADY_RUNNING: "CONFLICT",
};

/** The one mapping from a domain error to what tRPC answers. */
function toTRPCError(cause: AppError): TRPCError {
  return new TRPCError({ code: TRPC_CODES[cause.code], message: cause.message, cause });
}

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const appError = error.cause instanceof AppError ? error.cause : null;
    const zodError = error.cause instanceof z.ZodError ? error.cause : null;
    const internal = error.code === "INTERNAL_SERVER_ERROR";
    const message = internal
      ? "Something went wrong on our side. Nothing was charged."
      : zodError
        ? describeIssues(zodError)
        : shape.message;
    return {
      ...shape,
      message,
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

/** What a client is told when a store is away, whichever query met it: a 503 (with Retry-After, see
 * ./http.ts) saying which one, instead of a bare 500. */
function outageError(error: unknown): AppError | null {
  const store = unreachableStore(error);
  if (!store) return null;
  noteOutage(error);
  return store === "postgres"
    ? new AppError(
        "DATABASE_UNAVAILABLE",
        // Not "nothing was charged": a checkout's confirmation may have committed with its answer lost.
        "The shop's database is restarting; please try again in a few seconds. Trying a checkout again shows how it ended and never buys twice.",
      )
    : new AppError(
        "REDIS_UNAVAILABLE",
        "Redis is unavailable, so this could not be done. Try again once it is back.",
      );
}

const appErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (result.ok) return result;
  const cause = result.error.cause;
  if (cause instanceof AppError) throw toTRPCError(cause);
  const outage = outageError(cause);
  if (outage) throw toTRPCError(outage);
  return result;
});

/** Ill-formed text (a lone UTF-16 surrogate) anywhere in any input is a 400, checked here once for every
 * procedure before its own input schema runs. */
const wellFormedInput = t.middleware(async ({ getRawInput, next }) => {
  // A body that is not JSON is the input parser's to refuse, and a procedure without input never reads
  // its body (an empty one included): no input to check here, then.
  const raw = await getRawInput().catch(() => undefined);
  const checked = wellFormedValue.safeParse(raw);
  if (!checked.success) {
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: describeIssues(checked.error),
      cause: checked.error,
    });
  }
  return next();
});

const devToolsEnabled = t.middleware(({ ctx, next }) => {
  if (ctx.devTools === "off") throw new AppError("FORBIDDEN", "Developer tools are off");
  return next();
});

const devToolsUnlocked = t.middleware(({ ctx, next }) => {
  if (ctx.devTools === "locked") throw new AppError("UNAUTHORIZED", lockedMessage());
  return next();
});

/** Every change the developer tools make is stored in Redis (knobs, queues, the load lab's lock). While
 * Redis is away one would wait in ioredis' offline queue, or in BullMQ's wait for a connection, through
 * reconnect attempts: it is refused at once instead. */
const redisWrites = t.middleware(({ type, next }) => {
  if (type === "mutation" && unavailable(redis("command"))) {
    throw new AppError(
      "REDIS_UNAVAILABLE",
      "Redis is unavailable, so this change could not be saved. Try again once it is back.",
    );
  }
  return next();
});

/** A read that costs the shop more than a page view: at most `limit` calls per window per session,
 * then 429 with Retry-After. A caller without a session has nothing to read yet, and passes. */
export function perSessionLimit(limit: Limit) {
  return t.middleware(async ({ ctx, path, next }) => {
    if (ctx.sessionId) {
      const waitMs = await spend(path, ctx.sessionId, limit);
      if (waitMs !== null) {
        const retryAfterS = Math.max(1, Math.ceil(waitMs / 1000));
        throw new AppError(
          "TOO_MANY_REQUESTS",
          `Too many requests for ${path} from this browser: try again in ${retryAfterS} s.`,
          { retryAfterS },
        );
      }
    }
    return next();
  });
}

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(appErrors).use(wellFormedInput);
/** For the developer tools' own door (see whether they are locked, enter the key). */
export const devDoorProcedure = publicProcedure.use(devToolsEnabled);
export const devProcedure = devDoorProcedure.use(devToolsUnlocked).use(redisWrites);
