// One BullMQ worker per side-effect queue: parse the job, run the step, let BullMQ retry failures with
// backoff. A job that can never succeed (bad payload, unknown order) fails at once instead of looping.
import { hostname } from "node:os";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import { config } from "../server/config";
import {
  queueName,
  SIDE_EFFECT_STEPS,
  type SideEffectJob,
  type SideEffectStep,
  sideEffectJobSchema,
} from "../server/contract";
import { getSettings } from "../server/downstream/settings";
import { errorReporter, log, messageOf, noteOutage } from "../server/log";
import { runAsJob } from "../server/metrics/jobs";
import { metrics } from "../server/metrics/registry";
import { OrderNotFoundError, recordDeadLetter, runStep } from "../server/orders/run";
import { createRedis, queuePrefix, type RedisClient } from "../server/redis";

export type SideEffectWorker = Worker<SideEffectJob, void, SideEffectStep>;
type SideEffectJobHandle = Job<SideEffectJob, void, SideEffectStep>;

export interface SideEffectWorkers {
  workers: SideEffectWorker[];
  /** Waits for the jobs in flight to finish, then disconnects. */
  stop: () => Promise<void>;
}

/** Stored on every job this process runs (`processedBy`, shown in bull-board): with many worker
 * processes on many machines, which one ran (or holds) a job. */
export const WORKER_NAME = `${hostname()}-${process.pid}`;

/** How often the consumers knob is re-read: a change applies within this long. */
const KNOB_REFRESH_MS = 1_000;

export function startSideEffectWorkers(): SideEffectWorkers {
  const connections: RedisClient[] = [];
  const consumers = SIDE_EFFECT_STEPS.map((step) => {
    const connection = createRedis("blocking");
    connections.push(connection);
    const worker = new Worker<SideEffectJob, void, SideEffectStep>(
      queueName(step),
      async (job) => {
        const payload = sideEffectJobSchema.safeParse(job.data);
        if (!payload.success || payload.data.step !== step) {
          throw new UnrecoverableError(
            `invalid ${step} job payload: ${payload.error?.message ?? "wrong step"}`,
          );
        }
        observeQueueWait(step, job);
        // attemptsStarted also counts a run cut short by a crash (a stalled job), unlike attemptsMade.
        const number = Math.max(job.attemptsStarted, job.attemptsMade + 1);
        const last = number >= (job.opts.attempts ?? 1);
        const jobLog = log.child({ orderId: payload.data.orderId, jobId: job.id, step, attempt: number });
        const startedAt = performance.now();
        try {
          const result = await runAsJob(step, () =>
            runStep(payload.data.orderId, step, { number, last, ...queueHistory(job) }),
          );
          // The happy path at debug: an order's every job at info would be a line per job under load.
          jobLog.debug({ result, ms: Math.round(performance.now() - startedAt) }, `${step}: ${result}`);
        } catch (error) {
          // During a store's outage every job fails: the outage is one line, the retries are debug.
          const outage = noteOutage(error);
          jobLog[outage ? "debug" : "warn"](
            { error: messageOf(error), ms: Math.round(performance.now() - startedAt), retry: !last },
            last ? `${step}: failed, no attempt left` : `${step}: failed, will retry`,
          );
          if (error instanceof OrderNotFoundError) throw new UnrecoverableError(error.message);
          throw error;
        }
      },
      {
        connection,
        prefix: queuePrefix(queueName(step)),
        name: WORKER_NAME,
        concurrency: config.WORKER_CONCURRENCY,
        lockDuration: config.WORKER_LOCK_MS,
        stalledInterval: config.WORKER_LOCK_MS,
        // A job whose worker died mid-run is retried; one that took down its worker three times is
        // failed (it may be what kills them).
        maxStalledCount: 2,
      },
    );
    worker.on("error", errorReporter(`worker ${step}`, log.child({ step })));
    // A job BullMQ itself moves to the failed set when it fetches it (one whose workers kept dying)
    // never reaches the processor; record it on its order all the same.
    worker.on("failed", (job, error) => {
      if (job) void recordFailedJob(step, job, error.message).catch(errorReporter(`dead letter ${step}`));
    });
    return { step, worker };
  });
  const workers = consumers.map(({ worker }) => worker);
  const stopFollowing = followConsumersKnob(consumers);
  return {
    workers,
    stop: async () => {
      stopFollowing();
      await Promise.all(workers.map((worker) => worker.close()));
      await Promise.all(connections.map((connection) => connection.quit().catch(() => {})));
    },
  };
}

/** Each queue's consumers in this process follow the knob in /dev (settings.shop.consumers), else
 * WORKER_CONCURRENCY. BullMQ applies a new concurrency to its next fetches; jobs running stay. */
function followConsumersKnob(consumers: { step: SideEffectStep; worker: SideEffectWorker }[]): () => void {
  const refresh = async () => {
    const knob = (await getSettings()).shop.consumers;
    for (const { step, worker } of consumers) {
      const wanted = knob[step] ?? config.WORKER_CONCURRENCY;
      if (worker.concurrency !== wanted) worker.concurrency = wanted;
    }
  };
  const timer = setInterval(() => void refresh().catch(errorReporter("consumers knob")), KNOB_REFRESH_MS);
  void refresh().catch(errorReporter("consumers knob"));
  return () => clearInterval(timer);
}

async function recordFailedJob(
  step: SideEffectStep,
  job: SideEffectJobHandle,
  reason: string,
): Promise<void> {
  // A failure with a retry ahead leaves the job delayed; only a final one is a dead letter.
  if ((await job.getState()) !== "failed") return;
  metrics.deadLetters.inc({ step });
  const payload = sideEffectJobSchema.safeParse(job.data);
  log.error(
    { orderId: payload.data?.orderId, jobId: job.id, step, attempt: job.attemptsMade, error: reason },
    `${step}: dead letter, waiting for a person to retry it in /dev`,
  );
  // The job's own failure time: a person may have retried it already, and that attempt is running.
  const failedAt = job.finishedOn ? new Date(job.finishedOn) : undefined;
  if (payload.success) await recordDeadLetter(payload.data.orderId, step, reason, failedAt);
}

/** What the waterfall needs to split this attempt's wait: a first delivery was queued from when it was
 * added (or became due); a retry first waited out its backoff, BullMQ's exponential one with the
 * queue's settings (2^(failures − 1) × QUEUE_BACKOFF_MS). A redelivery after a crash knows neither. */
function queueHistory(job: SideEffectJobHandle): { queuedAt: Date | null; backoffMs: number | null } {
  if (job.attemptsMade === 0 && job.attemptsStarted <= 1) {
    return { queuedAt: new Date(job.timestamp + (job.opts.delay ?? 0)), backoffMs: null };
  }
  const backoff = job.opts.backoff;
  const delay = typeof backoff === "object" ? (backoff.delay ?? 0) : (backoff ?? 0);
  const exponential = typeof backoff === "object" && backoff.type === "exponential";
  return {
    queuedAt: null,
    backoffMs: job.attemptsMade > 0 ? (exponential ? delay * 2 ** (job.attemptsMade - 1) : delay) : null,
  };
}

/** How long a job waited for a consumer: from when it was added (or became due, if added delayed) to
 * now, when a worker took it. First deliveries only: a retry's wait is mostly its deliberate backoff,
 * a redelivery's the lock of a worker that died, a replay's a person's decision (they are counted by
 * storefront_step_retries_total and the dead-letter counter instead). */
function observeQueueWait(step: SideEffectStep, job: SideEffectJobHandle): void {
  if (job.attemptsMade > 0 || job.attemptsStarted > 1) return;
  const runnableAt = job.timestamp + (job.opts.delay ?? 0);
  const pickedUpAt = job.processedOn ?? Date.now();
  metrics.queueWait.observe({ queue: step }, Math.max(0, pickedUpAt - runnableAt) / 1000);
}
