// Which of this process's queue jobs are waiting for a provider slot. BullMQ counts such a job as
// "active" like any other; the queue panel and the storefront_queue_jobs gauge split it out. A worker
// runs each job inside runAsJob(queue, …); the simulated provider reports a caller that has to queue
// for a capacity slot, and the wait is counted against the job's queue. Callers outside a job (a
// synchronous checkout in the web process) are not queue jobs and are not counted.
import { AsyncLocalStorage } from "node:async_hooks";
import { SIDE_EFFECT_STEPS, type SideEffectStep } from "../contract";

const currentJob = new AsyncLocalStorage<SideEffectStep>();
const waiting = new Map<SideEffectStep, number>();
let onChange: (() => void) | null = null;

export function runAsJob<T>(queue: SideEffectStep, work: () => Promise<T>): Promise<T> {
  return currentJob.run(queue, work);
}

/** Called by a provider call that has to wait for a slot; returns the function that ends the wait. */
export function waitingForProvider(): () => void {
  const queue = currentJob.getStore();
  if (!queue) return () => {};
  waiting.set(queue, (waiting.get(queue) ?? 0) + 1);
  onChange?.();
  let ended = false;
  return () => {
    if (ended) return;
    ended = true;
    waiting.set(queue, (waiting.get(queue) ?? 1) - 1);
    onChange?.();
  };
}

/** This process's jobs waiting for a provider, per queue. */
export function jobsWaitingForProvider(): Record<SideEffectStep, number> {
  return Object.fromEntries(SIDE_EFFECT_STEPS.map((queue) => [queue, waiting.get(queue) ?? 0])) as Record<
    SideEffectStep,
    number
  >;
}

/** One listener (the worker's presence in Redis) hears every change of the counts. */
export function onProviderWaitsChange(listener: (() => void) | null): void {
  onChange = listener;
}
