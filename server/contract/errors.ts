// Error codes shared by server and UI. Domain code throws AppError; the tRPC error formatter and
// socket acks turn it into a status and a readable message (never a stack trace).
import type { z } from "zod";

export const APP_ERROR_CODES = [
  "BAD_REQUEST",
  "NOT_FOUND",
  "FORBIDDEN",
  "OUT_OF_STOCK",
  "IDEMPOTENCY_CONFLICT",
  "PAYMENT_DECLINED",
  "DEPENDENCY_FAILED",
  /** A repeat of a checkout that has not answered yet (same idempotency key). */
  "STILL_PROCESSING",
  /** Turned away before anything was written: too many checkouts at once. Safe to retry. */
  "BUSY",
  /** The developer tools are locked: the key has not been entered in this browser, or was wrong. */
  "UNAUTHORIZED",
  /** A write that is not JSON (forms and other cross-site-friendly encodings are refused). */
  "UNSUPPORTED_MEDIA_TYPE",
  /** Something that runs one at a time is running already (a Rush hour load run). */
  "ALREADY_RUNNING",
  /** Slow down: too many requests (or watched orders) on one connection. */
  "TOO_MANY_REQUESTS",
  /** Postgres cut or refused the connection (a restart): nothing was charged; safe to retry shortly. */
  "DATABASE_UNAVAILABLE",
  /** Redis is away: a change that must be stored there (knobs, queues) was refused at once. */
  "REDIS_UNAVAILABLE",
] as const;
export type AppErrorCode = (typeof APP_ERROR_CODES)[number];

export class AppError extends Error {
  constructor(
    readonly code: AppErrorCode,
    message: string,
    /** Safe, structured facts for the client, e.g. the order that failed. */
    readonly details: { orderId?: string; productId?: string; step?: string; retryAfterS?: number } = {},
  ) {
    super(message);
    this.name = "AppError";
  }
}

const LISTED_ISSUES = 3;

/** Invalid input as a sentence a person can read ("Quantity must be at least 1"). A message that does
 * not name its field gets the field's path in front of it. */
export function describeIssues(error: z.ZodError): string {
  const sentences = error.issues.slice(0, LISTED_ISSUES).map((issue) => {
    const field = issue.path.at(-1);
    const named = typeof field === "string" && issue.message.toLowerCase().includes(field.toLowerCase());
    const text =
      named || issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`;
    return text.charAt(0).toUpperCase() + text.slice(1);
  });
  const more = error.issues.length - sentences.length;
  return sentences.join("; ") + (more > 0 ? ` (and ${more} more)` : "");
}
