// Placed orders followed to done, for their time to done: with --watch each is watched as the order page
// watches it (socket.io, `order:watch`); without, a sample of them is polled (order.byId) with its own
// visitor's cookie. Either way until the order is done, parked in the dead-letter set (nothing moves
// until a person acts: the shopper moves on), or following stops.
import { setMaxListeners } from "node:events";
import type http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { io, type Socket } from "socket.io-client";
import {
  type ClientToServerEvents,
  isNewer,
  isParked,
  type OrderView,
  orderView,
  type ServerToClientEvents,
  type WatchAck,
} from "../../server/contract";
import { type CookieJar, callProcedure } from "./http";
import { json, orderAnswer } from "./shop";
import type { Clicked } from "./tally";

/** Without --watch, at most this many unsettled orders are polled (order.byId) for their time to done:
 * every order of the Rush hour lab's experiments. */
const DONE_SAMPLE = 1000;

const POLL_EVERY_MS = 500;

/** Orders polled at once in each round. */
const POLL_BATCH = 25;

const WATCH_ACK_TIMEOUT_MS = 5000;

/** How often a watcher asks for its order's snapshot again, in case a push was lost. */
const WATCH_RECHECK_MS = 5000;

type OrderSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export class DoneFollower {
  /** Placed orders not followed to done (past DONE_SAMPLE, without --watch). */
  notFollowed = 0;
  /** Followed orders that were not done when following stopped, or were parked in the dead-letter set. */
  unsettled = 0;
  private sampled = 0;
  /** Orders polled for their time to done (without --watch), with when their shopper clicked. */
  private readonly polled = new Map<string, { jar: CookieJar; clicked: Clicked }>();
  private readonly watching = new Set<Promise<unknown>>();
  /** Stops watching and polling orders that are not done. */
  private readonly following = new AbortController();

  constructor(
    private readonly target: string,
    private readonly agent: http.Agent,
    private readonly watch: boolean,
    /** Records an order's time to done from its shopper's click; false while it is not done. */
    private readonly recordDone: (order: OrderView, clicked: Clicked) => boolean,
  ) {
    // Every watch in flight listens for this: thousands, on purpose.
    setMaxListeners(0, this.following.signal);
  }

  /** Time to done: at once if the answer was already done (sync), else by watching or polling. */
  track(order: OrderView, jar: CookieJar, clicked: Clicked): Promise<void> {
    if (this.recordDone(order, clicked)) return Promise.resolve();
    if (this.watch) {
      const watching = watchOrder(this.target, order, jar, this.following.signal).then((final) => {
        if (!final || !this.recordDone(final, clicked)) this.unsettled++;
      });
      this.watching.add(watching);
      void watching.finally(() => this.watching.delete(watching));
      return watching;
    }
    if (this.sampled < DONE_SAMPLE) {
      this.sampled++;
      this.polled.set(order.id, { jar, clicked });
    } else this.notFollowed++;
    return Promise.resolve();
  }

  /** The watches under way now. */
  watches(): Promise<unknown>[] {
    return [...this.watching];
  }

  /** Stops following the orders that are not done yet: they count as unsettled. */
  stop(): void {
    this.following.abort();
  }

  /** Polls the sampled orders with their own visitor's cookie until each is done, or until following
   * stops; ends early once nothing is left to poll and `noMoreOrders` says none will come. */
  async poll(noMoreOrders: () => boolean): Promise<void> {
    const stopped = this.following.signal;
    while (!stopped.aborted) {
      const batch = [...this.polled].slice(0, POLL_BATCH);
      await Promise.all(
        batch.map(async ([orderId, tracked]) => {
          const reply = await callProcedure(this.target, "order.byId", {
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
      if (this.polled.size === 0 && noMoreOrders()) break;
      await sleep(POLL_EVERY_MS, null, { signal: stopped }).catch(() => null);
    }
    this.unsettled += this.polled.size;
  }
}

/** Like the order page: a connection of its own with the visitor's cookie, `order:watch` by id, and
 * every newer view applied, until the order is done, parked in the dead-letter set or `stopped`
 * (then null). Asks again on reconnect. */
function watchOrder(
  target: string,
  order: OrderView,
  jar: CookieJar,
  stopped: AbortSignal,
): Promise<OrderView | null> {
  if (stopped.aborted) return Promise.resolve(null);
  const socket: OrderSocket = io(target, {
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
