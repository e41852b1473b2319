// Admission control for checkouts, before anything is written: at most CHECKOUT_SLOTS run at once in
// this process; the next ones wait, in arrival order, up to CHECKOUT_WAIT_MS for a slot, then are
// turned away as "busy" (503 with Retry-After). A burst is answered quickly and honestly instead of
// every checkout queueing for a database connection and failing halfway.
import { config } from "../config";
import { AppError } from "../contract";
import { Slots } from "../semaphore";

/** Seconds a turned-away shopper (or script) should wait before trying again. */
export const BUSY_RETRY_AFTER_S = 1;

const checkouts = new Slots(
  () => config.CHECKOUT_SLOTS,
  () => config.CHECKOUT_WAIT_MS,
);

export async function admitted<T>(work: () => Promise<T>): Promise<T> {
  if (!(await checkouts.acquire())) {
    throw new AppError("BUSY", "The shop is very busy right now. Nothing was charged; please try again.");
  }
  try {
    return await work();
  } finally {
    checkouts.release();
  }
}
