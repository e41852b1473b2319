// Queue inspection for the developer console: counts per state, pausing consumers, and the
// dead-letter set (BullMQ's failed set) with replay and discard.

import {
  JOB_STATES,
  type JobState,
  QUEUE_ATTEMPTS,
  SIDE_EFFECT_STEPS,
  type SideEffectStep,
  STEPS,
  type StepName,
  sideEffectJobSchema,
  stepsAfter,
} from "../contract";
import { faultPoint } from "../faults";
import type { QueueJobCounts } from "../metrics/registry";
import { providerWaitsOfAllWorkers } from "../metrics/workers";
import { changeOrder, type StepChange } from "../orders/change";
import { compensate, leaveUndoOwed } from "../orders/compensate";
import { findOrderView } from "../orders/view";
import { sideEffectQueue } from "../queues";
import { type RedriveCount, redriveCounts } from "../repair/reconcile";

export interface QueueSummary {
  name: SideEffectStep;
  paused: boolean;
  counts: Record<JobState, number>;
  /** BullMQ's active jobs, split: running their step, or waiting for a slot of their provider. */
  active: { running: number; waitingForProvider: number };
  /** Side effects of this queue the reconciler handed back to the outbox (their job was lost). */
  redriven: RedriveCount;
}

export async function queueSummaries(): Promise<QueueSummary[]> {
  const [waits, redriven, summaries] = await Promise.all([
    providerWaitsOfAllWorkers(),
    redriveCounts(),
    Promise.all(
      SIDE_EFFECT_STEPS.map(async (name) => {
        const queue = sideEffectQueue(name);
        const [counts, paused] = await Promise.all([queue.getJobCounts(...JOB_STATES), queue.isPaused()]);
        return {
          name,
          paused,
          counts: Object.fromEntries(JOB_STATES.map((state) => [state, counts[state] ?? 0])) as Record<
            JobState,
            number
          >,
        };
      }),
    ),
  ]);
  return summaries.map((summary) => {
    // Read a moment apart (BullMQ's counts, the workers' reports): never more waiting than active.
    const waitingForProvider = Math.min(summary.counts.active, waits[summary.name]);
    return {
      ...summary,
      active: { running: summary.counts.active - waitingForProvider, waitingForProvider },
      redriven: redriven[summary.name],
    };
  });
}

/** The queues by the storefront_queue_jobs gauge's states (failed = the dead-letter set). */
export async function queueJobCounts(): Promise<QueueJobCounts[]> {
  return (await queueSummaries()).map(({ name, counts, active }) => ({
    queue: name,
    counts: {
      waiting: counts.waiting,
      running: active.running,
      waiting_for_provider: active.waitingForProvider,
      delayed: counts.delayed,
      failed: counts.failed,
    },
  }));
}

export async function setPaused(name: SideEffectStep, paused: boolean): Promise<void> {
  const queue = sideEffectQueue(name);
  await (paused ? queue.pause() : queue.resume());
}

export interface DeadLetter {
  queue: SideEffectStep;
  jobId: string;
  orderId: string | null;
  error: string;
  attempts: number;
  maxAttempts: number;
  failedAt: string | null;
}

const DEAD_LETTERS_SHOWN = 100;

export async function deadLetters(): Promise<DeadLetter[]> {
  const perQueue = await Promise.all(
    SIDE_EFFECT_STEPS.map(async (name) => {
      const jobs = await sideEffectQueue(name).getFailed(0, DEAD_LETTERS_SHOWN - 1);
      return jobs.map((job) => {
        const payload = sideEffectJobSchema.safeParse(job.data);
        return {
          queue: name,
          jobId: job.id ?? "",
          orderId: payload.success ? payload.data.orderId : null,
          error: job.failedReason,
          attempts: job.attemptsMade,
          maxAttempts: job.opts.attempts ?? QUEUE_ATTEMPTS,
          failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
        };
      });
    }),
  );
  return perQueue.flat().sort((a, b) => (b.failedAt ?? "").localeCompare(a.failedAt ?? ""));
}

/** Replays one dead letter, or all of a queue's (or of every queue) when no job id is given. */
export async function retryDeadLetters(name: SideEffectStep | null, jobId: string | null): Promise<number> {
  const names = name ? [name] : SIDE_EFFECT_STEPS;
  let retried = 0;
  for (const queueName of names) {
    const queue = sideEffectQueue(queueName);
    const jobs = jobId ? [await queue.getJob(jobId)] : await queue.getFailed();
    for (const job of jobs) {
      if (job && (await job.getState()) === "failed") {
        await markRetried(queueName, job.data);
        await job.retry("failed");
        retried++;
      }
    }
  }
  return retried;
}

/** Records the operator's retry on the order first, so the mark precedes the attempt it causes (a
 * step the worker took meanwhile keeps its state; an order gone meanwhile is simply not changed). */
async function markRetried(name: SideEffectStep, data: unknown): Promise<void> {
  const payload = sideEffectJobSchema.safeParse(data);
  if (!payload.success) return;
  await changeOrder(payload.data.orderId, {
    steps: { [name]: { status: "failed", retriedByOperatorAt: new Date(), onlyFrom: ["failed"] } },
  });
}

/** Gives up on a dead letter: its step is marked skipped on the order, then the job is removed. A step
 * the order cannot stand without (STEPS[name].onDiscard: an order never screened must not ship with
 * its authorization held) fails the order instead, which is undone: stock back, payment voided. The
 * order is changed first: while the job still exists no reconciler takes the step for lost, and once
 * the order says skipped or undone no reconciler drives it again. */
export async function discardDeadLetter(name: SideEffectStep, jobId: string): Promise<boolean> {
  const job = await sideEffectQueue(name).getJob(jobId);
  if (!job || (await job.getState()) !== "failed") return false;
  const payload = sideEffectJobSchema.safeParse(job.data);
  if (payload.success) {
    await giveUpOnStep(name, payload.data.orderId);
    await faultPoint("discard:claimed", { orderId: payload.data.orderId });
  }
  await job.remove();
  return true;
}

async function giveUpOnStep(name: SideEffectStep, orderId: string): Promise<void> {
  // What waits on the discarded step will never start (fulfillment waits on fraud screening).
  const steps: Partial<Record<StepName, StepChange>> = Object.fromEntries(
    stepsAfter(name).map((next) => [
      next,
      { status: "skipped", detail: `Not run: ${name} was discarded`, onlyFrom: ["pending"] },
    ]),
  );
  // A step that settled meanwhile (a verdict given by a retry) keeps what it says.
  steps[name] = {
    status: "skipped",
    detail: "Discarded from the dead-letter set by a developer",
    discardedAt: new Date(),
    onlyFrom: ["pending", "running", "retrying", "failed"],
  };
  if (STEPS[name].onDiscard === "skip") {
    // An order that is gone meanwhile is simply not changed.
    await changeOrder(orderId, { steps, settle: true });
    return;
  }
  if (!(await findOrderView({ id: orderId }))) return;
  const reason = `${STEPS[name].label} was given up on (discarded from the dead-letter set), and the order cannot go ahead without it. Nothing was charged.`;
  // An order undone already (the step's own verdict) only has its owed undos finished.
  await compensate(orderId, { status: "failed", reason }, steps).catch(leaveUndoOwed);
}
