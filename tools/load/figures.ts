// The load's arithmetic: figures to a tenth, rates per second, percentiles, time to done from the
// shopper's click, latencies per progress window, and a wait with a limit that a stop cuts short.
import { setTimeout as sleep } from "node:timers/promises";
import { answerOf, type OrderView, percentile, timeToDone } from "../../server/contract";

/** A figure to 0.1 ms. */
export const tenth = (ms: number) => Math.round(ms * 10) / 10;

/** Time to done from the click: what the shopper waited (their clock, slot waits and retries in it)
 * plus how long the order went on after its answer (the order's own clock), so never below the time
 * to answer, in sync (done when answered) as in async. Null while the order is not done. */
export function doneFromClick(order: OrderView, answerMs: number): number | null {
  const done = timeToDone(order);
  if (done === null) return null;
  return answerMs + Math.max(0, done - (answerOf(order)?.ms ?? done));
}

/** A count over a window as a rate per second, to a tenth. */
export function perSecond(count: number, windowMs: number): number {
  return windowMs > 0 ? Math.round((count / windowMs) * 10_000) / 10 : 0;
}

export function percentiles(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);
  return {
    p50: round(percentile(sorted, 0.5)),
    p95: round(percentile(sorted, 0.95)),
    p99: round(percentile(sorted, 0.99)),
  };
}

/** Latencies since the start, and since the last progress line. */
export class Timings {
  readonly all: number[] = [];
  window: number[] = [];
  add(ms: number): void {
    this.all.push(ms);
    this.window.push(ms);
  }
  takeWindow(): number[] {
    const window = this.window;
    this.window = [];
    return window;
  }
}

/** Resolves true when `work` finishes within `ms`, false when the time is up or `stop` comes first. */
export async function waitAtMost(work: Promise<unknown>, ms: number, stop: AbortSignal): Promise<boolean> {
  const timer = new AbortController();
  const timeUp = sleep(ms, false, { signal: AbortSignal.any([stop, timer.signal]) }).catch(() => false);
  try {
    return await Promise.race([work.then(() => true), timeUp]);
  } finally {
    timer.abort();
  }
}
