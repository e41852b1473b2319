// Admission control for checkouts, before anything is written: at most CHECKOUT_SLOTS run at once in
// this process; the next ones wait, in arrival order, up to CHECKOUT_WAIT_MS for a slot, then are
// turned away as "busy" (503 with Retry-After). A burst is answered quickly and honestly instead of
// every checkout queueing for a database connection and failing halfway.
import { config } from "../config";
import { AppError } from "../contract";

/** Seconds a turned-away shopper (or script) should wait before trying again. */
export const BUSY_RETRY_AFTER_S = 1;

let running = 0;
const waiting: (() => void)[] = [];

export async function admitted<T>(work: () => Promise<T>): Promise<T> {
  await acquire();
  try {
    return await work();
  } finally {
    release();
  }
}

function acquire(): Promise<void> {
  if (running < config.CHECKOUT_SLOTS) {
    running++;
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const admit = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      waiting.splice(waiting.indexOf(admit), 1);
      reject(new AppError("BUSY", "The shop is very busy right now. Nothing was charged; please try again."));
    }, config.CHECKOUT_WAIT_MS);
    waiting.push(admit);
  });
}

/** A finished checkout hands its slot straight to the longest waiter. */
function release(): void {
  const next = waiting.shift();
  if (next) next();
  else running--;
}
