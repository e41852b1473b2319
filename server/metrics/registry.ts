// The Prometheus metrics of a process, named once. Instruments exist from import on, so the order path
// and the steps can record into them in any process (and in tests); a process that serves /metrics
// calls startMetrics(role) once to register what it exports (with the library's own CPU, memory and
// event-loop metrics). Label values come from the contract's tables, never from free text, so every
// series is known in advance: each is created at zero and a rate over it works from the first scrape.
import { Counter, collectDefaultMetrics, Gauge, Histogram, type Metric, Registry } from "prom-client";
import {
  CHECKOUT_MODES,
  type CheckoutMode,
  type OrderStatus,
  QUEUE_JOB_STATES,
  type QueueJobState,
  SIDE_EFFECT_STEPS,
  type SideEffectStep,
  type StepStatus,
} from "../contract";

/** The exported names: an interface (the Rush hour panel and anyone's Prometheus read them). */
export const METRIC_NAMES = {
  checkoutAnswer: "storefront_checkout_answer_seconds",
  orderDone: "storefront_order_done_seconds",
  orders: "storefront_orders_total",
  stepDuration: "storefront_step_duration_seconds",
  stepRetries: "storefront_step_retries_total",
  deadLetters: "storefront_dead_letters_total",
  queueWait: "storefront_queue_wait_seconds",
  queueJobs: "storefront_queue_jobs",
  httpInFlight: "storefront_http_requests_in_flight",
  apiRequest: "storefront_api_request_seconds",
  requestSlotsInUse: "storefront_request_slots_in_use",
  requestSlotsLimit: "storefront_request_slots_limit",
  requestSlotsWaiting: "storefront_request_slots_waiting",
  requestsRefused: "storefront_requests_refused_total",
} as const;

/** How a checkout request was answered: the order was placed; the shop said no (out of stock, payment
 * declined); it turned the request away before doing anything (busy, a repeat still running); a
 * dependency broke a synchronous checkout (compensated); anything else. */
export const CHECKOUT_OUTCOMES = ["placed", "declined", "refused", "failed", "error"] as const;
export type CheckoutOutcome = (typeof CHECKOUT_OUTCOMES)[number];

/** How one attempt of a side-effect step ended (the step statuses it leaves behind). */
export const STEP_OUTCOMES = ["succeeded", "rejected", "failed"] as const satisfies readonly StepStatus[];
export type StepOutcome = (typeof STEP_OUTCOMES)[number];

/** Final order statuses: the ones an order settles in (settledAt set), each exactly once. */
export const SETTLED_ORDER_STATUSES = [
  "completed",
  "cancelled",
  "failed",
] as const satisfies readonly OrderStatus[];

/** Why a request was turned away by the web tier's request-slot pool. */
export const REFUSAL_REASONS = ["slot_wait_timeout"] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

// Seconds. Time to answer spans a fast async checkout (ms) to a slow sync one (s); time to done and
// queue waits stretch to minutes when a backlog builds.
const ANSWER_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BACKLOG_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900];
const CALL_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type MetricKey = keyof typeof METRIC_NAMES;

/** What each series means, for anyone reading the scrape. */
const HELP: Record<MetricKey, string> = {
  checkoutAnswer: "Time from a checkout request's arrival at the web process to its answer",
  orderDone: "Time to done: an order's creation to its settling (eventual-consistency lag), once per order",
  orders: "Orders by final status, counted when they settle",
  stepDuration:
    "One attempt of a side-effect step: its provider calls, including any wait for a provider slot",
  stepRetries: "Failed attempts of a side-effect step that another attempt follows",
  deadLetters: "Side-effect jobs that ran out of attempts and rest in the dead-letter (failed) set",
  queueWait: "A job's first delivery: enqueued (or due, if delayed) until a worker picked it up",
  queueJobs: "Side-effect jobs by state, for all worker processes (read from Redis when scraped)",
  httpInFlight:
    "HTTP requests the web process has received and not answered yet (socket.io and /metrics aside)",
  apiRequest:
    "A tRPC request's arrival at the web process to its answer, by procedure (a batch counts for each)",
  requestSlotsInUse: "Request slots of the web tier's bounded pool in use",
  requestSlotsLimit: "Size of the web tier's request-slot pool; 0 means no limit",
  requestSlotsWaiting: "Requests waiting in line for a request slot (the pool is full)",
  requestsRefused: "Requests the web tier turned away before handling them, by reason",
};

/** An instrument's name and help; registered by startMetrics only, in the processes that export it. */
function described(metric: MetricKey) {
  return { name: METRIC_NAMES[metric], help: HELP[metric], registers: [] };
}

function histogram<Label extends string>(metric: MetricKey, labelNames: readonly Label[], buckets: number[]) {
  return new Histogram<Label>({ ...described(metric), labelNames, buckets });
}

function counter<Label extends string>(metric: MetricKey, labelNames: readonly Label[]) {
  return new Counter<Label>({ ...described(metric), labelNames });
}

function gauge(metric: MetricKey) {
  return new Gauge(described(metric));
}

/** The instruments, for code that records into them (the order path, the steps, the HTTP server). */
export const metrics = {
  checkoutAnswer: histogram("checkoutAnswer", ["mode", "outcome"], ANSWER_BUCKETS),
  orderDone: histogram("orderDone", ["mode", "status"], BACKLOG_BUCKETS),
  orders: counter("orders", ["mode", "status"]),
  stepDuration: histogram("stepDuration", ["step", "outcome"], CALL_BUCKETS),
  stepRetries: counter("stepRetries", ["step"]),
  deadLetters: counter("deadLetters", ["step"]),
  queueWait: histogram("queueWait", ["queue"], BACKLOG_BUCKETS),
  queueJobs: new Gauge({
    ...described("queueJobs"),
    labelNames: ["queue", "state"] as const,
    async collect() {
      if (!readQueueJobs) return;
      const queues = await readQueueJobs();
      this.reset();
      for (const { queue, counts } of queues) {
        for (const state of QUEUE_JOB_STATES) this.set({ queue, state }, counts[state]);
      }
    },
  }),
  httpInFlight: gauge("httpInFlight"),
  apiRequest: histogram("apiRequest", ["procedure"], ANSWER_BUCKETS),
  requestSlotsInUse: gauge("requestSlotsInUse"),
  requestSlotsLimit: gauge("requestSlotsLimit"),
  requestSlotsWaiting: gauge("requestSlotsWaiting"),
  requestsRefused: counter("requestsRefused", ["reason"]),
};

/** Every known series at zero. */
function zeroSeries(): void {
  const { checkoutAnswer, orderDone, orders, stepDuration, stepRetries, deadLetters, queueWait } = metrics;
  for (const mode of CHECKOUT_MODES) {
    for (const outcome of CHECKOUT_OUTCOMES) checkoutAnswer.zero({ mode, outcome });
    for (const status of SETTLED_ORDER_STATUSES) {
      orderDone.zero({ mode, status });
      orders.inc({ mode, status }, 0);
    }
  }
  for (const step of SIDE_EFFECT_STEPS) {
    for (const outcome of STEP_OUTCOMES) stepDuration.zero({ step, outcome });
    stepRetries.inc({ step }, 0);
    deadLetters.inc({ step }, 0);
    queueWait.zero({ queue: step });
  }
  for (const reason of REFUSAL_REASONS) metrics.requestsRefused.inc({ reason }, 0);
}
zeroSeries();

export type ProcessRole = "web" | "worker";

/** What each process exports: the web process answers requests and sees the queues from Redis; a
 * worker runs jobs. Both settle orders and run steps (sync checkouts run them in the web process). */
const EXPORTED: Record<ProcessRole, MetricKey[]> = {
  web: [
    "checkoutAnswer",
    "orderDone",
    "orders",
    "stepDuration",
    "stepRetries",
    "queueJobs",
    "httpInFlight",
    "apiRequest",
    "requestSlotsInUse",
    "requestSlotsLimit",
    "requestSlotsWaiting",
    "requestsRefused",
  ],
  worker: ["orderDone", "orders", "stepDuration", "stepRetries", "deadLetters", "queueWait"],
};

/** This process's registry: empty until startMetrics. */
export const registry = new Registry();
let started: ProcessRole | null = null;

export function startMetrics(role: ProcessRole): Registry {
  if (started === role) return registry;
  if (started) throw new Error(`metrics already started as ${started}`);
  started = role;
  for (const key of EXPORTED[role]) {
    const metric: Metric = metrics[key];
    registry.registerMetric(metric);
  }
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** One queue's job counts by the gauge's states. */
export type QueueJobCounts = { queue: SideEffectStep; counts: Record<QueueJobState, number> };

let readQueueJobs: (() => Promise<QueueJobCounts[]>) | null = null;

/** Where the queue gauge reads its numbers when scraped (the web process wires it to the queues). */
export function readQueueJobsWith(read: () => Promise<QueueJobCounts[]>): void {
  readQueueJobs = read;
}

/** A settled order, observed once (see server/orders/change.ts for why exactly once). */
export function observeSettled(order: {
  mode: CheckoutMode;
  status: OrderStatus;
  createdAt: string;
  settledAt: string;
}): void {
  const status = SETTLED_ORDER_STATUSES.find((candidate) => candidate === order.status);
  if (!status) return;
  const seconds = (Date.parse(order.settledAt) - Date.parse(order.createdAt)) / 1000;
  metrics.orderDone.observe({ mode: order.mode, status }, Math.max(0, seconds));
  metrics.orders.inc({ mode: order.mode, status });
}
