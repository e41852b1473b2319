// Queue names and job payloads: one BullMQ queue per side effect, named after its step.
import { z } from "zod";
import { type SideEffectStep, sideEffectStepSchema } from "./steps";
import { plainText } from "./text";

export const sideEffectJobSchema = z.object({
  orderId: z.uuid(),
  step: sideEffectStepSchema,
});
export type SideEffectJob = z.infer<typeof sideEffectJobSchema>;

export function queueName(step: SideEffectStep): string {
  return step;
}

/** Queue attempts before a job rests in the failed set (our dead-letter set). */
export const QUEUE_ATTEMPTS = 4;
/** First retry delay; each next one doubles (exponential backoff). */
export const QUEUE_BACKOFF_MS = 1000;
/** A synchronous checkout cannot keep the shopper waiting long: a few quick tries only. */
export const INLINE_ATTEMPTS = 2;
export const INLINE_BACKOFF_MS = 150;

/** How many completed jobs BullMQ keeps per queue, and for how long: a retention cap, not a total
 * (the queue panel says "kept"). */
export const COMPLETED_KEPT = { count: 5000, ageSeconds: 24 * 3600 } as const;

export const JOB_STATES = ["waiting", "active", "delayed", "completed", "failed"] as const;
export type JobState = (typeof JOB_STATES)[number];

export const queueRefInput = z.object({ queue: sideEffectStepSchema });
export const deadLetterRefInput = z.object({
  queue: sideEffectStepSchema,
  jobId: plainText("jobId").min(1).max(100),
});

/** Where a side-effect job is, as the queue panel and the `storefront_queue_jobs` gauge count it.
 * BullMQ's "active" is split in two: a job running its step, and one waiting for a free slot of its
 * provider (whose capacity knob limits calls at once) — active = running + waiting_for_provider. */
export const QUEUE_JOB_STATES = ["waiting", "running", "waiting_for_provider", "delayed", "failed"] as const;
export type QueueJobState = (typeof QUEUE_JOB_STATES)[number];
export const queueJobStateSchema = z.enum(QUEUE_JOB_STATES);
export const QUEUE_JOB_STATE_LABELS: Record<QueueJobState, string> = {
  waiting: "Waiting",
  running: "Running",
  waiting_for_provider: "Waiting for provider",
  delayed: "Delayed",
  failed: "Failed",
};
/** Work not finished yet (the backlog): everything but the dead-letter set. */
export const BACKLOG_STATES = [
  "waiting",
  "running",
  "waiting_for_provider",
  "delayed",
] as const satisfies readonly QueueJobState[];
