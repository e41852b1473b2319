// Error codes shared by server and UI. Domain code throws AppError; the tRPC error formatter and
// socket acks turn it into a status and a readable message (never a stack trace).
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
] as const;
export type AppErrorCode = (typeof APP_ERROR_CODES)[number];

export class AppError extends Error {
  constructor(
    readonly code: AppErrorCode,
    message: string,
    /** Safe, structured facts for the client, e.g. the order that failed. */
    readonly details: { orderId?: string; productId?: string; step?: string } = {},
  ) {
    super(message);
    this.name = "AppError";
  }
}
