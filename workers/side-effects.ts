// One BullMQ worker per side-effect queue: parse the job, run the step, let BullMQ retry failures with
// backoff. A job that can never succeed (bad payload, unknown order) fails at once instead of looping.
import { hostname } from "node:os";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import { config } from "../server/config";
import {
  queueName,
  REPLACED_STALLED_CONSUMER,
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
import { sideEffectQueue } from "../server/queues";
import { createRedis, queuePrefix, type RedisClient } from "../server/redis";

export type SideEffectWorker = Worker<SideEffectJob, void, SideEffectStep>;
type SideEffectJobHandle = Job<SideEffectJob, void, SideEffectStep>;

export interface SideEffectWorkers {
  /** The consumers now, one per queue (a stalled one is replaced: see watchConsumers). */
  readonly workers: SideEffectWorker[];
  /** Waits for the jobs in flight to finish, then disconnects. */
  stop: () => Promise<void>;
}

/** Stored on every job this process runs (`processedBy`, shown in bull-board): with many worker
 * processes on many machines, which one ran (or holds) a job. */
export const WORKER_NAME = `${hostname()}-${process.pid}`;

/** How often the consumers knob is re-read: a change applies within this long. */
const KNOB_REFRESH_MS = 1_000;

/** A consumer idle this long while its queue's oldest waiting job has waited as long is stalled. A
 * healthy one is woken at once by a new job's marker, and polls at least every 11 s without one (BullMQ
 * blocks for at most 10 s, and its own watchdog gives a blocking read one more second). */
const CONSUMER_STALL_MS = 20_000;

/** One queue's consumer in this process: the BullMQ worker, its blocking connection, what it runs. */
interface Consumer extends Started {
  step: SideEffectStep;
  /** Jobs its processor is running now. */
  running: number;
  /** When its processor last started a job (or the consumer was started). */
  lastStartAt: number;
}

export function startSideEffectWorkers({
  stallMs = CONSUMER_STALL_MS,
}: {
  /** After how long an idle consumer with jobs waiting is replaced (tests pass less). */
  stallMs?: number;
} = {}): SideEffectWorkers {
  const consumers = SIDE_EFFECT_STEPS.map((step) => {
    const consumer: Consumer = {
      step,
      running: 0,
      lastStartAt: Date.now(),
      ...startConsumer(step, (run) => {
        consumer.running++;
        consumer.lastStartAt = Date.now();
        return run().finally(() => {
          consumer.running--;
        });
      }),
    };
    return consumer;
  });
  const stopFollowing = followConsumersKnob(consumers);
  const stopWatching = watchConsumers(consumers, stallMs);
  return {
    get workers() {
      return consumers.map(({ worker }) => worker);
    },
    stop: async () => {
      stopFollowing();
      stopWatching();
      await Promise.all(consumers.map(({ worker }) => worker.close()));
      await Promise.all(consumers.map(({ connection }) => connection.quit().catch(() => {})));
    },
  };
}

/** A BullMQ worker for one queue on a blocking connection of its own. */
interface Started {
  worker: SideEffectWorker;
  connection: RedisClient;
  /** Wraps every run of its processor. */
  around: (run: () => Promise<void>) => Promise<void>;
}

function startConsumer(step: SideEffectStep, around: Started["around"]): Started {
  const connection = createRedis("blocking");
  const worker = new Worker<SideEffectJob, void, SideEffectStep>(
    queueName(step),
    (job) => around(() => processJob(step, job)),
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
  return { worker, connection, around };
}

async function processJob(step: SideEffectStep, job: SideEffectJobHandle): Promise<void> {
  const payload = sideEffectJobSchema.safeParse(job.data);
  if (!payload.success || payload.data.step !== step) {
    throw new UnrecoverableError(`invalid ${step} job payload: ${payload.error?.message ?? "wrong step"}`);
  }
  observeQueueWait(step, job);
  // attemptsStarted also counts a run cut short by a crash (a stalled job), unlike attemptsMade.
  const number = Math.max(job.attemptsStarted, job.attemptsMade + 1);
  const last = number >= (job.opts.attempts ?? 1);
  const jobLog = log.child({ orderId: payload.data.orderId, jobId: job.id, step, attempt: number });
  const startedAt = performance.now();
  try {
    const result = await runAsJob(step, () =>
      runStep(payload.data.orderId, step, { number, last, jobId: job.id, ...queueHistory(job) }),
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
}

/** Replaces a consumer that has stopped taking jobs. After a Redis Cluster failover a BullMQ worker's
 * fetch loop can stay parked for good on its blocking connection (seen in the chaos soak: both worker
 * processes' fraud consumers took nothing more while the jobs waited in the new primary's list, their
 * orders placed with fraud screening pending, and nothing in Redis looked lost to the reconciler). So
 * every few seconds each idle consumer looks at its queue: jobs waiting longer than `stallMs` for a
 * consumer that started nothing for as long, in a queue not paused, mean it is stuck; a new worker on a
 * new connection takes over, and the old one is closed in the background. */
function watchConsumers(consumers: Consumer[], stallMs: number): () => void {
  let checking = false;
  const check = async () => {
    const now = Date.now();
    for (const consumer of consumers) {
      if (consumer.running > 0 || now - consumer.lastStartAt < stallMs) continue;
      const queue = sideEffectQueue(consumer.step);
      const [oldest] = await queue.getJobs(["wait"], 0, 0, true);
      if (!oldest || now - oldest.timestamp < stallMs || (await queue.isPaused())) continue;
      log.warn(
        { step: consumer.step, idleMs: now - consumer.lastStartAt, waitingMs: now - oldest.timestamp },
        `${consumer.step}: ${REPLACED_STALLED_CONSUMER}`,
      );
      const { worker, connection } = consumer;
      Object.assign(consumer, startConsumer(consumer.step, consumer.around), { lastStartAt: now });
      void worker
        .close(true)
        .catch(() => {})
        .finally(() => connection.disconnect());
    }
  };
  const timer = setInterval(
    () => {
      if (checking) return;
      checking = true;
      check()
        .catch((error: unknown) => {
          if (!noteOutage(error)) log.warn({ error: messageOf(error) }, "consumer check failed");
        })
        .finally(() => {
          checking = false;
        });
    },
    Math.min(stallMs / 4, 5_000),
  );
  return () => clearInterval(timer);
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
  const payload = sideEffectJobSchema.safeParse(job.data);
  if (!payload.success) {
    // Redis lost the job's data while its id stayed listed (a failover can): nothing a person could
    // retry; the reconciler removes it and re-drives the step from Postgres under the same id.
    log.warn(
      { jobId: job.id, step, error: reason },
      `${step}: a job without its data failed; repair re-drives it`,
    );
    return;
  }
  metrics.deadLetters.inc({ step });
  log.error(
    { orderId: payload.data.orderId, jobId: job.id, step, attempt: job.attemptsMade, error: reason },
    `${step}: dead letter, waiting for a person to retry it in /dev`,
  );
  // The job's own failure time: a person may have retried it already, and that attempt is running.
  const failedAt = job.finishedOn ? new Date(job.finishedOn) : undefined;
  await recordDeadLetter(payload.data.orderId, step, reason, failedAt);
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
