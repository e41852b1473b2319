// The BullMQ queues, one per side effect, created on first use. Producers share the fail-fast
// "command" connection: when Redis is down, adding a job errors at once and the outbox keeps the row.
import { Queue } from "bullmq";
import {
  COMPLETED_KEPT,
  QUEUE_ATTEMPTS,
  QUEUE_BACKOFF_MS,
  queueName,
  SIDE_EFFECT_STEPS,
  type SideEffectJob,
  type SideEffectStep,
} from "./contract";
import { errorReporter } from "./log";
import { queuePrefix, redis } from "./redis";

export type SideEffectQueue = Queue<SideEffectJob, void, SideEffectStep>;

const queues = new Map<SideEffectStep, SideEffectQueue>();

export function sideEffectQueue(step: SideEffectStep): SideEffectQueue {
  let queue = queues.get(step);
  if (!queue) {
    queue = new Queue<SideEffectJob, void, SideEffectStep>(queueName(step), {
      connection: redis("command"),
      prefix: queuePrefix(queueName(step)),
      defaultJobOptions: {
        attempts: QUEUE_ATTEMPTS,
        backoff: { type: "exponential", delay: QUEUE_BACKOFF_MS },
        removeOnComplete: { age: COMPLETED_KEPT.ageSeconds, count: COMPLETED_KEPT.count },
        // Failed jobs stay: the failed set is our dead-letter set.
        removeOnFail: false,
      },
    });
    queue.on("error", errorReporter(`queue ${step}`));
    queues.set(step, queue);
  }
  return queue;
}

export function allSideEffectQueues(): SideEffectQueue[] {
  return SIDE_EFFECT_STEPS.map(sideEffectQueue);
}

export async function closeQueues(): Promise<void> {
  const open = [...queues.values()];
  queues.clear();
  await Promise.all(open.map((queue) => queue.close()));
}
