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
// This file is the run's pacing: arrivals, answers in flight, when to stop. What it measures and
// reports is tally.ts's; following placed orders to done is follow.ts's; what it reads from the shop's
// answers is shop.ts's, and its arithmetic figures.ts's.
import { randomBytes, randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import type http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type LoadErrorKind,
  type LoadEvent,
  type LoadPlan,
  type LoadSummaryEvent,
  MAX_SHOPPERS,
} from "../../server/contract";
import { waitAtMost } from "./figures";
import { DoneFollower } from "./follow";
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
  readQueueDepth,
  restockAdvice,
} from "./shop";
import { Tally } from "./tally";

/** A sync checkout with slow providers can take tens of seconds; past this the shopper gives up. */
const REQUEST_TIMEOUT_MS = 120_000;

/** After the duration, answers still on their way get this long before they are abandoned. */
const STOP_GRACE_MS = 30_000;

/** After the last answer, orders not done yet get this long to settle before they count as unsettled:
 * a burst's backlog can take a minute or two to drain, and its time to done is what the run is for. An
 * order parked in the dead-letter set is not waited for (nothing moves until a person acts). */
const SETTLE_WAIT_MS = 120_000;

/** An open loop never has more checkouts in flight than this; an arrival beyond it is dropped (and
 * counted), like a visitor who gives up at the door. */
const MAX_RATE_IN_FLIGHT = MAX_SHOPPERS;

/** One shopper's patience with "busy, try again" for one checkout. */
const MAX_BUSY_RETRIES = 10;

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

/** How a checkout attempt ended, as far as its shopper waits: `done` settles once the order is done
 * (or no longer tracked). Wrapped, because an async function cannot resolve to a promise. */
interface Outcome {
  done: Promise<void>;
}

const NOTHING_TO_WATCH: Outcome = { done: Promise.resolve() };

class Run {
  private readonly tally: Tally;
  private readonly follower: DoneFollower;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** The catalog showed nothing in stock: the run stops rather than measure refusals. */
  private outOfStock = false;
  /** Checkouts begun, counted to spread the fraudsters among them. */
  private checkouts = 0;
  private queueDepth: number | null = null;
  private peakQueueDepth: number | null = null;
  /** No new checkouts once aborted (the duration is over, or a signal came). */
  private readonly arrivals = new AbortController();
  /** Aborts checkouts still waiting for an answer. */
  private readonly answersWanted = new AbortController();

  constructor(
    private readonly plan: LoadPlan,
    private readonly options: RunOptions,
    private readonly agent: http.Agent,
    private readonly dev: DevTools,
  ) {
    this.tally = new Tally(options.emit);
    this.follower = new DoneFollower(plan.target, agent, plan.watch, (order, clicked) =>
      this.tally.recordDone(order, clicked),
    );
    // Every request in flight listens for these: thousands, on purpose.
    setMaxListeners(0, this.arrivals.signal, this.answersWanted.signal);
  }

  async go(runId: string, stop: AbortSignal): Promise<LoadSummaryEvent> {
    const { plan, tally, follower } = this;
    const onStop = () => {
      this.arrivals.abort();
      this.answersWanted.abort();
      follower.stop();
    };
    stop.addEventListener("abort", onStop, { once: true });
    this.options.emit({ type: "started", runId, settings: plan, startedAt: new Date().toISOString() });
    const startedAt = tally.begin();
    let lastAnswerAt = startedAt;
    const ticker = setInterval(() => this.progress(), PROGRESS_EVERY_MS);
    const poller = follower.poll(() => this.arrivals.signal.aborted && this.inFlight.size === 0);
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
      if (!stop.aborted) await waitAtMost(Promise.all([poller, ...follower.watches()]), SETTLE_WAIT_MS, stop);
      if (stop.aborted) stoppedBy = "signal";
      else if (this.outOfStock) stoppedBy = "out-of-stock";
    } finally {
      follower.stop();
      clearInterval(ticker);
      stop.removeEventListener("abort", onStop);
    }
    await Promise.all([loop, poller, ...follower.watches()]);
    return tally.summary({
      runId,
      stoppedBy,
      loadMs: lastAnswerAt - startedAt,
      notFollowed: follower.notFollowed,
      unsettled: follower.unsettled,
      peakQueueDepth: this.peakQueueDepth,
    });
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
        if (this.inFlight.size >= MAX_RATE_IN_FLIGHT) this.tally.dropped++;
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
    this.tally.sent++;
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
      this.tally.catalogRead(listedAt, listedMs);
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
          this.tally.answered(pressedAt, answerMs);
          return { done: this.follower.track(order.data.result.data, jar, { pressedAt, answerMs }) };
        }
        const kind = errorKind(reply);
        if (kind === "BUSY" && busy < MAX_BUSY_RETRIES) {
          busy++;
          this.tally.retries.busy++;
          await sleep((reply.retryAfterS ?? 1) * 1000, null, { signal });
        } else if (kind === "STILL_PROCESSING") {
          // The shop already waited for the first request with this key; ask again for its answer.
          this.tally.retries.stillProcessing++;
        } else {
          return this.failed(kind);
        }
      }
    } catch (error) {
      if (signal.aborted) {
        this.tally.abandoned++;
        return NOTHING_TO_WATCH;
      }
      if (error instanceof RequestFailed)
        return this.failed(error.kind === "TIMEOUT" ? "TIMEOUT" : "NETWORK");
      throw error;
    }
  }

  private failed(kind: LoadErrorKind): Outcome {
    this.tally.failed(kind);
    return NOTHING_TO_WATCH;
  }

  private async readQueueDepth(): Promise<void> {
    this.queueDepth = await readQueueDepth(this.plan.target, this.agent, this.dev);
    if (this.queueDepth !== null) this.peakQueueDepth = Math.max(this.peakQueueDepth ?? 0, this.queueDepth);
  }

  private progress(): void {
    this.tally.progress(this.inFlight.size, this.queueDepth);
    void this.readQueueDepth();
  }
}
