// Virtual shoppers against a running shop, through its public surface only: tRPC over HTTP and
// socket.io, each visitor with its own cookies. One checkout attempt is what a person does: look at
// the catalog, pick something in stock, press Purchase (retrying the same idempotency key when the
// shop says "busy" or "still processing"), and optionally watch the order page until it is done.
//
// Sessions: a fresh visitor has no cookie; the shop gives it one with its first checkout (the
// `order.place` answer sets it, as it does for a browser that never loaded a page), and the visitor
// sends it from then on. So the same shoppers work against the full web process and against the bare
// API server the tests start, and a run does not render pages it does not measure.
//
// Longer than 400 lines for one reason: Run (about 390) is one run's state (arrivals, answers in flight,
// orders followed to done, progress windows) that its methods share; what it reads from the shop's
// answers (shop.ts) and its arithmetic (figures.ts) live apart.
import { randomBytes, randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import type http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { io, type Socket } from "socket.io-client";
import {
  type ClientToServerEvents,
  isNewer,
  isParked,
  type LoadErrorKind,
  type LoadEvent,
  type LoadMeasuredEvent,
  type LoadPlan,
  type LoadSummaryEvent,
  MAX_RATE_IN_FLIGHT,
  MAX_SHOPPERS,
  type OrderView,
  orderView,
  type ServerToClientEvents,
  type WatchAck,
} from "../../server/contract";
import { doneFromClick, percentiles, perSecond, Timings, tenth, waitAtMost } from "./figures";
import { CookieJar, callProcedure, keepAliveAgent, RequestFailed } from "./http";
import {
  type DevKey,
  type DevTools,
  errorKind,
  errorMessage,
  json,
  LoadStartError,
  openDevTools,
  orderAnswer,
  productsAnswer,
  queuesAnswer,
  restockAdvice,
} from "./shop";

/** A sync checkout with slow providers can take tens of seconds; past this the shopper gives up. */
const REQUEST_TIMEOUT_MS = 120_000;

/** After the duration, answers still on their way get this long before they are abandoned. */
const STOP_GRACE_MS = 30_000;

/** After the last answer, orders not done yet get this long to settle before they count as unsettled:
 * a burst's backlog can take a minute or two to drain, and its time to done is what the run is for. An
 * order parked in the dead-letter set is not waited for (nothing moves until a person acts). */
const SETTLE_WAIT_MS = 120_000;

/** Without --watch, at most this many unsettled orders are polled (order.byId) for their time to done:
 * every order of the Rush hour lab's experiments. */
const DONE_SAMPLE = 1000;

const POLL_EVERY_MS = 500;

/** Orders polled at once in each round. */
const POLL_BATCH = 25;

/** One shopper's patience with "busy, try again" for one checkout. */
const MAX_BUSY_RETRIES = 10;

const WATCH_ACK_TIMEOUT_MS = 5000;

/** How often a watcher asks for its order's snapshot again, in case a push was lost. */
const WATCH_RECHECK_MS = 5000;

const PROGRESS_EVERY_MS = 1000;

export function newRunId(): string {
  return randomBytes(4).toString("hex");
}

/** The customer a visitor checks out as: its number and the run's id, so a run's orders can be found.
 * A fraudster's address says so, which is what the simulated fraud screening rejects. */
export function shopperIdentity(
  runId: string,
  shopper: number,
  fraudster = false,
): { name: string; email: string } {
  const who = fraudster ? `shopper-${shopper}.fraud` : `shopper-${shopper}`;
  return { name: `Load shopper ${shopper}`, email: `${who}.${runId}@load.example` };
}

/** Whether the n-th checkout (from 1) is a fraudster's: spread evenly, `share` of them in all. */
export function isFraudster(n: number, share: number): boolean {
  return Math.floor(n * share) > Math.floor((n - 1) * share);
}

type OrderSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface RunOptions {
  runId: string;
  /** The developer tools key, for a shop that has one, if it may be sent to this target; `withheld`
   * says why one was not given (the environment's key and a target on another machine). */
  devKey: DevKey;
  /** Aborted when the run must stop now (Ctrl+C, SIGTERM): no new checkouts, answers not awaited. */
  stop: AbortSignal;
  emit: (event: LoadEvent) => void;
  /** Top every product up to RUSH_STOCK before the first checkout (through the developer tools). */
  restock?: boolean;
}

/** Runs the plan to its end (or until `stop`), emitting `started`, `progress` every second and the
 * `summary`, which it also returns. Throws LoadStartError before any checkout if it cannot start. */
export async function runLoad(plan: LoadPlan, options: RunOptions): Promise<LoadSummaryEvent> {
  const { target } = plan;
  const { runId, stop } = options;
  const sockets = plan.arrivals.loop === "burst" ? plan.arrivals.orders : MAX_SHOPPERS;
  const agent = keepAliveAgent(target, sockets);
  try {
    const dev = await openDevTools(target, agent, options.devKey);
    if (options.restock) {
      if (!dev.usable) throw new LoadStartError(`--restock needs the developer tools: ${dev.why}`);
      const restocked = await callProcedure(target, "dev.rush.restock", {
        agent,
        kind: "mutation",
        jar: dev.jar,
      });
      if (restocked.status !== 200) {
        throw new LoadStartError(`restocking failed: ${errorMessage(restocked)}`);
      }
    } else if (!dev.inStock) {
      throw new LoadStartError(restockAdvice(target));
    }
    if (plan.preset) {
      if (!dev.usable) throw new LoadStartError(`--preset needs the developer tools: ${dev.why}`);
      const applied = await callProcedure(target, "dev.applyPreset", {
        agent,
        kind: "mutation",
        input: { preset: plan.preset },
        jar: dev.jar,
      });
      if (applied.status !== 200) {
        throw new LoadStartError(`applying the preset failed: ${errorMessage(applied)}`);
      }
    }
    return await new Run(plan, options, agent, dev).go(runId, stop);
  } finally {
    agent.destroy();
  }
}

/** When a placed order's shopper pressed Purchase (performance.now()), and how long the answer took. */
interface Clicked {
  pressedAt: number;
  answerMs: number;
}

/** How a checkout attempt ended, as far as its shopper waits: `done` settles once the order is done
 * (or no longer tracked). Wrapped, because an async function cannot resolve to a promise. */
interface Outcome {
  done: Promise<void>;
}

const NOTHING_TO_WATCH: Outcome = { done: Promise.resolve() };

class Run {
  private readonly answers = new Timings();
  private readonly catalog = new Timings();
  private readonly done: number[] = [];
  /** When each followed order was done, in ms since the start. */
  private readonly doneAt: number[] = [];
  /** Placed orders not followed to done (past DONE_SAMPLE, without --watch). */
  private notFollowed = 0;
  private readonly errors = new Map<LoadErrorKind, number>();
  private readonly retries = { busy: 0, stillProcessing: 0 };
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly tracking = new Set<Promise<unknown>>();
  /** Orders polled for their time to done (without --watch), with when their shopper clicked. */
  private readonly polled = new Map<string, { jar: CookieJar; clicked: Clicked }>();
  /** Figures taken since the last `measured` event. */
  private measured: Omit<LoadMeasuredEvent, "type"> = { answers: [], done: [], catalog: [] };
  /** performance.now() at the start: every `at` counts from here. */
  private startedAt = 0;
  /** The elapsedMs of the last progress line: the next one's window starts there. */
  private lastProgressMs = 0;
  /** The catalog showed nothing in stock: the run stops rather than measure refusals. */
  private outOfStock = false;
  private sampled = 0;
  private unsettled = 0;
  private sent = 0;
  /** Checkouts begun, counted to spread the fraudsters among them. */
  private checkouts = 0;
  private placed = 0;
  private placedInWindow = 0;
  private abandoned = 0;
  private dropped = 0;
  private queueDepth: number | null = null;
  private peakQueueDepth: number | null = null;
  /** No new checkouts once aborted (the duration is over, or a signal came). */
  private readonly arrivals = new AbortController();
  /** Aborts checkouts still waiting for an answer. */
  private readonly answersWanted = new AbortController();
  /** Stops watching and polling orders that are not done. */
  private readonly tracked = new AbortController();

  constructor(
    private readonly plan: LoadPlan,
    private readonly options: RunOptions,
    private readonly agent: http.Agent,
    private readonly dev: DevTools,
  ) {
    // Every request and watch in flight listens for these: thousands, on purpose.
    setMaxListeners(0, this.arrivals.signal, this.answersWanted.signal, this.tracked.signal);
  }

  async go(runId: string, stop: AbortSignal): Promise<LoadSummaryEvent> {
    const { plan } = this;
    const onStop = () => {
      this.arrivals.abort();
      this.answersWanted.abort();
      this.tracked.abort();
    };
    stop.addEventListener("abort", onStop, { once: true });
    this.options.emit({ type: "started", runId, settings: plan, startedAt: new Date().toISOString() });
    const startedAt = performance.now();
    this.startedAt = startedAt;
    let lastAnswerAt = startedAt;
    const ticker = setInterval(() => this.progress(), PROGRESS_EVERY_MS);
    const poller = this.poll();
    void this.readQueueDepth();

    let stoppedBy: LoadSummaryEvent["stoppedBy"] = "duration";
    const loop = this.arrive(runId, startedAt);
    try {
      const answeredInTime = await waitAtMost(loop, plan.durationMs, stop);
      this.arrivals.abort();
      if (plan.arrivals.loop === "burst") {
        stoppedBy = answeredInTime ? "burst-answered" : "burst-timeout";
      } else if (!stop.aborted) {
        await waitAtMost(Promise.all(this.inFlight), STOP_GRACE_MS, stop);
      }
      this.answersWanted.abort();
      await Promise.all(this.inFlight);
      lastAnswerAt = performance.now();
      if (!stop.aborted) await waitAtMost(Promise.all([poller, ...this.tracking]), SETTLE_WAIT_MS, stop);
      if (stop.aborted) stoppedBy = "signal";
      else if (this.outOfStock) stoppedBy = "out-of-stock";
    } finally {
      this.tracked.abort();
      clearInterval(ticker);
      stop.removeEventListener("abort", onStop);
    }
    await Promise.all([loop, poller, ...this.tracking]);
    const errors: LoadSummaryEvent["errors"] = {};
    for (const [kind, n] of this.errors) errors[kind] = n;
    const answered = this.placed + [...this.errors.values()].reduce((sum, n) => sum + n, 0);
    const loadMs = lastAnswerAt - startedAt;
    const summary: LoadSummaryEvent = {
      type: "summary",
      runId,
      stoppedBy,
      elapsedMs: Math.round(loadMs),
      sent: this.sent,
      answered,
      placed: this.placed,
      errors,
      abandoned: this.abandoned,
      dropped: this.dropped,
      retries: { ...this.retries },
      ordersPerSecond: perSecond(this.placed, loadMs),
      donePerSecond:
        this.notFollowed > 0 ? null : perSecond(this.doneAt.filter((at) => at <= loadMs).length, loadMs),
      answerMs: percentiles(this.answers.all),
      doneMs: {
        ...percentiles(this.done),
        measured: this.done.length,
        unsettled: this.unsettled,
      },
      catalogMs: { ...percentiles(this.catalog.all), calls: this.catalog.all.length },
      peakQueueDepth: this.peakQueueDepth,
    };
    this.emitMeasured();
    this.options.emit(summary);
    return summary;
  }

  /** Starts checkouts as the plan says, until arrivals stop (or, for a burst, all have answered). */
  private async arrive(runId: string, startedAt: number): Promise<void> {
    const { arrivals } = this.plan;
    const stopped = this.arrivals.signal;
    const pause = (ms: number) => sleep(ms, true, { signal: stopped }).catch(() => false);
    if (arrivals.loop === "burst") {
      for (let shopper = 1; shopper <= arrivals.orders; shopper++)
        this.checkout(runId, shopper, new CookieJar());
      await Promise.all(this.inFlight);
      return;
    }
    if (arrivals.loop === "rate") {
      const intervalMs = 1000 / arrivals.perSecond;
      for (let shopper = 1; !stopped.aborted; shopper++) {
        if (this.inFlight.size >= MAX_RATE_IN_FLIGHT) this.dropped++;
        else this.checkout(runId, shopper, new CookieJar());
        // Arrivals keep to the clock, not to the answers (open loop).
        if (!(await pause(startedAt + shopper * intervalMs - performance.now()))) return;
      }
      return;
    }
    await Promise.all(
      Array.from({ length: arrivals.shoppers }, async (_, index) => {
        const jar = new CookieJar();
        // Shoppers arrive spread over one pause, not all in the same millisecond.
        let going = await pause(Math.random() * Math.min(arrivals.pauseMs, 1000));
        while (going) {
          const { done } = await this.checkout(runId, index + 1, jar);
          if (this.plan.watch) await done;
          going = !stopped.aborted && (await pause(arrivals.pauseMs));
        }
      }),
    );
  }

  /** One checkout attempt; resolves when it has an outcome, with a promise of the order being done. */
  private checkout(runId: string, shopper: number, jar: CookieJar): Promise<Outcome> {
    this.sent++;
    const attempt = this.attempt(runId, shopper, jar);
    this.inFlight.add(attempt);
    void attempt.finally(() => this.inFlight.delete(attempt));
    return attempt;
  }

  private async attempt(runId: string, shopper: number, jar: CookieJar): Promise<Outcome> {
    const { target, mode } = this.plan;
    const signal = this.answersWanted.signal;
    const call = (procedure: string, kind: "query" | "mutation", input?: unknown) =>
      callProcedure(target, procedure, {
        agent: this.agent,
        kind,
        input,
        jar,
        timeoutMs: REQUEST_TIMEOUT_MS,
        signal,
      });
    try {
      const listedAt = performance.now();
      const list = await call("product.list", "query");
      const products = productsAnswer.safeParse(json(list));
      if (list.status !== 200 || !products.success) return this.failed("CATALOG_FAILED");
      const listedMs = performance.now() - listedAt;
      this.catalog.add(listedMs);
      this.measured.catalog.push({ at: tenth(listedAt + listedMs - this.startedAt), ms: tenth(listedMs) });
      const inStock = products.data.result.data.filter((product) => product.stock > 0);
      const product = inStock[Math.floor(Math.random() * inStock.length)];
      if (!product) {
        // Sold out: every checkout from here on would be a refusal. Stop the arrivals now.
        this.outOfStock = true;
        this.arrivals.abort();
        return this.failed("NOTHING_IN_STOCK");
      }

      const input = {
        items: [{ productId: product.id, quantity: 1 }],
        customer: shopperIdentity(runId, shopper, isFraudster(++this.checkouts, this.plan.fraudShare)),
        idempotencyKey: `load-${runId}-${randomUUID()}`,
        mode,
      };
      const pressedAt = performance.now();
      for (let busy = 0; ; ) {
        const reply = await call("order.place", "mutation", input);
        const order = orderAnswer.safeParse(json(reply));
        if (reply.status === 200 && order.success) {
          const answerMs = performance.now() - pressedAt;
          this.placed++;
          this.placedInWindow++;
          this.answers.add(answerMs);
          this.measured.answers.push({
            at: tenth(pressedAt + answerMs - this.startedAt),
            ms: tenth(answerMs),
          });
          return { done: this.track(order.data.result.data, jar, { pressedAt, answerMs }) };
        }
        const kind = errorKind(reply);
        if (kind === "BUSY" && busy < MAX_BUSY_RETRIES) {
          busy++;
          this.retries.busy++;
          await sleep((reply.retryAfterS ?? 1) * 1000, null, { signal });
        } else if (kind === "STILL_PROCESSING") {
          // The shop already waited for the first request with this key; ask again for its answer.
          this.retries.stillProcessing++;
        } else {
          return this.failed(kind);
        }
      }
    } catch (error) {
      if (signal.aborted) {
        this.abandoned++;
        return NOTHING_TO_WATCH;
      }
      if (error instanceof RequestFailed)
        return this.failed(error.kind === "TIMEOUT" ? "TIMEOUT" : "NETWORK");
      throw error;
    }
  }

  private failed(kind: LoadErrorKind): Outcome {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
    return NOTHING_TO_WATCH;
  }

  /** Time to done: at once if the answer was already done (sync), else by watching or polling. */
  private track(order: OrderView, jar: CookieJar, clicked: Clicked): Promise<void> {
    if (this.recordDone(order, clicked)) return Promise.resolve();
    if (this.plan.watch) {
      const watching = this.watch(order, jar).then((final) => {
        if (!final || !this.recordDone(final, clicked)) this.unsettled++;
      });
      this.tracking.add(watching);
      void watching.finally(() => this.tracking.delete(watching));
      return watching;
    }
    if (this.sampled < DONE_SAMPLE) {
      this.sampled++;
      this.polled.set(order.id, { jar, clicked });
    } else this.notFollowed++;
    return Promise.resolve();
  }

  /** Records the order's time to done from the click, if it is done (false: not yet). */
  private recordDone(order: OrderView, clicked: Clicked): boolean {
    const ms = doneFromClick(order, clicked.answerMs);
    if (ms === null) return false;
    const at = clicked.pressedAt + ms - this.startedAt;
    this.done.push(ms);
    this.doneAt.push(at);
    this.measured.done.push({ at: tenth(at), ms: tenth(ms) });
    return true;
  }

  /** Like the order page: a connection of its own with the visitor's cookie, `order:watch` by id, and
   * every newer view applied, until the order is done, parked in the dead-letter set (nothing moves
   * until a person acts: the shopper moves on) or watching stops. Asks again on reconnect. */
  private watch(order: OrderView, jar: CookieJar): Promise<OrderView | null> {
    const stopped = this.tracked.signal;
    if (stopped.aborted) return Promise.resolve(null);
    const socket: OrderSocket = io(this.plan.target, {
      forceNew: true,
      transports: ["websocket"],
      extraHeaders: { cookie: jar.header },
    });
    let latest = order;
    return new Promise<OrderView | null>((resolve) => {
      const finish = (final: OrderView | null) => {
        clearInterval(recheck);
        stopped.removeEventListener("abort", onStop);
        socket.disconnect();
        resolve(final);
      };
      const onStop = () => finish(null);
      stopped.addEventListener("abort", onStop, { once: true });
      const apply = (incoming: unknown) => {
        const parsed = orderView.safeParse(incoming);
        if (parsed.success && isNewer(parsed.data, latest)) latest = parsed.data;
        if (latest.settledAt !== null || isParked(latest)) finish(latest);
      };
      const ask = () =>
        socket
          .timeout(WATCH_ACK_TIMEOUT_MS)
          .emit("order:watch", { orderId: order.id }, (error: Error | null, ack: WatchAck) => {
            if (!error && ack.ok) apply(ack.order);
          });
      socket.on("order:updated", apply);
      socket.on("connect", ask);
      // A push lost on the way (Redis restarting under the socket.io adapter) is never sent again: the
      // watch's snapshot is asked for again now and then, as a page asks again on reconnect.
      const recheck = setInterval(() => socket.connected && ask(), WATCH_RECHECK_MS);
    });
  }

  /** Polls the sampled orders with their own visitor's cookie until each is done. */
  private async poll(): Promise<void> {
    const stopped = this.tracked.signal;
    while (!stopped.aborted) {
      const batch = [...this.polled].slice(0, POLL_BATCH);
      await Promise.all(
        batch.map(async ([orderId, tracked]) => {
          const reply = await callProcedure(this.plan.target, "order.byId", {
            agent: this.agent,
            kind: "query",
            input: { orderId },
            jar: tracked.jar,
            timeoutMs: 10_000,
            signal: stopped,
          }).catch(() => null);
          const order = reply && orderAnswer.safeParse(json(reply));
          const view = order?.success === true ? order.data.result.data : null;
          const done = view !== null && this.recordDone(view, tracked.clicked);
          this.polled.delete(orderId);
          if (view && !done && isParked(view)) this.unsettled++;
          // Not done yet: to the back of the line, so one slow order does not hold up the rest.
          else if (!done) this.polled.set(orderId, tracked);
        }),
      );
      if (this.polled.size === 0 && this.arrivals.signal.aborted && this.inFlight.size === 0) break;
      await sleep(POLL_EVERY_MS, null, { signal: stopped }).catch(() => null);
    }
    this.unsettled += this.polled.size;
  }

  private async readQueueDepth(): Promise<void> {
    if (!this.dev.usable) return;
    const reply = await callProcedure(this.plan.target, "dev.queues", {
      agent: this.agent,
      kind: "query",
      jar: this.dev.jar,
      timeoutMs: 5000,
    }).catch(() => null);
    const queues = reply && queuesAnswer.safeParse(json(reply));
    if (!queues?.success) {
      this.queueDepth = null;
      return;
    }
    this.queueDepth = queues.data.result.data.reduce(
      (sum, { counts }) => sum + (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0),
      0,
    );
    this.peakQueueDepth = Math.max(this.peakQueueDepth ?? 0, this.queueDepth);
  }

  /** The figures taken since the last call, if any. */
  private emitMeasured(): void {
    const { answers, done, catalog } = this.measured;
    if (answers.length + done.length + catalog.length === 0) return;
    this.options.emit({ type: "measured", answers, done, catalog });
    this.measured = { answers: [], done: [], catalog: [] };
  }

  /** A progress line: its orders/s is the orders placed since the last line ÷ the time between the two
   * lines' elapsedMs, one reading of the clock for both (timed apart, writing the figures between them
   * made the rate disagree with the elapsed times it reports). */
  private progress(): void {
    const elapsedMs = Math.round(performance.now() - this.startedAt);
    const windowS = Math.max(0.001, (elapsedMs - this.lastProgressMs) / 1000);
    this.lastProgressMs = elapsedMs;
    this.emitMeasured();
    const errors = [...this.errors.values()].reduce((sum, n) => sum + n, 0);
    this.options.emit({
      type: "progress",
      elapsedMs,
      answered: this.placed + errors,
      placed: this.placed,
      errors,
      ordersPerSecond: Math.round((this.placedInWindow / windowS) * 10) / 10,
      inFlight: this.inFlight.size,
      answerMs: percentiles(this.answers.takeWindow()),
      catalogMs: percentiles(this.catalog.takeWindow()),
      queueDepth: this.queueDepth,
    });
    this.placedInWindow = 0;
    void this.readQueueDepth();
  }
}
