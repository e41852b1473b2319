// One order, live: status, the two numbers that tell sync from async (time to answer, time to done),
// the waterfall of its steps, and what was bought. The snapshot comes from order.byId; every
// change after that arrives over socket.io.
"use client";

import { useQuery } from "@tanstack/react-query";
import {
  answerOf,
  isMoving,
  isParked,
  orderIdInput,
  timeSoFar,
  timeToAnswer,
  timeToDone,
} from "@/server/contract";
import { formatDuration, formatPrice, sentence } from "../_lib/format";
import { orderHeadline, statusNote } from "../_lib/labels";
import { MODES } from "../_lib/mode";
import { TIMINGS } from "../_lib/order-timing";
import { describeProblem, useTRPC } from "../_lib/trpc";
import { type LiveState, useLiveOrder } from "../_lib/useLiveOrder";
import { useNow } from "../_lib/useNow";
import { BehindTheScenes } from "./BehindTheScenes";
import styles from "./OrderDetails.module.css";
import { OrderNotFound } from "./OrderNotFound";
import { OrderStatusBadge } from "./OrderStatusBadge";
import summary from "./Summary.module.css";
import { Waterfall } from "./Waterfall";

const LIVE_LABELS: Record<LiveState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  unavailable: "Live updates unavailable",
};

const placedAt = new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "medium" });

export function OrderDetails({ orderId }: { orderId: string }) {
  const valid = orderIdInput.safeParse({ orderId }).success;
  if (!valid) return <OrderNotFound />;
  return <LoadedOrder orderId={orderId} />;
}

function LoadedOrder({ orderId }: { orderId: string }) {
  const trpc = useTRPC();
  const query = useQuery(trpc.order.byId.queryOptions({ orderId }));
  const live = useLiveOrder(orderId, query.isSuccess);
  // What the order links to: a real order of the other mode under the same knobs, its queue jobs.
  // Refetched as the order moves on (its jobs appear as the relay hands them over).
  const related = useQuery({
    ...trpc.order.related.queryOptions({ orderId }),
    enabled: query.isSuccess,
    retry: false,
    refetchInterval: query.data && isMoving(query.data) ? 2000 : false,
  });
  const order = query.data;
  const now = useNow(order ? isMoving(order) : false);

  if (query.isPending) return <p className="muted">Loading your order…</p>;
  if (query.isError) {
    const problem = describeProblem(query.error);
    if (problem.notFound) return <OrderNotFound />;
    return (
      <div className="notice notice-error" role="alert">
        <p className="notice-title">This order could not be loaded</p>
        <p>{problem.message}</p>
        <button type="button" className="button" onClick={() => query.refetch()}>
          Try again
        </button>
      </div>
    );
  }
  if (!order) return <OrderNotFound />;

  const answer = answerOf(order);
  const done = timeToDone(order);
  const confirmed = timeToAnswer(order);
  const freeFor = confirmed !== null && done !== null ? done - confirmed : null;

  return (
    <article className={styles.order} aria-labelledby="order-title">
      <header className={styles.orderHead}>
        <div>
          <p className="eyebrow">Order {order.id.slice(0, 8)}</p>
          <h1 id="order-title" className="page-title">
            {orderHeadline(order)}
          </h1>
          <p className="muted">Placed {placedAt.format(new Date(order.createdAt))}</p>
        </div>
        <section className={styles.orderStatus} aria-label="Order status">
          {/* A live region: placed → completed, needs attention or cancelled is announced as it happens. */}
          <span role="status" aria-atomic="true" className="order-status-now">
            <span className="visually-hidden">Order status: </span>
            <OrderStatusBadge status={order.status} />
          </span>
          <span className={styles.liveIndicator} data-state={live} role="status">
            {LIVE_LABELS[live]}
          </span>
        </section>
      </header>
      <p className={styles.statusNote}>{statusNote(order)}</p>
      {order.failureReason && (
        <div className="notice notice-error" role="alert">
          <p className="notice-title">What went wrong</p>
          <p>{order.failureReason}</p>
        </div>
      )}

      <section className={styles.metrics} aria-label="Timings">
        <div className={`${styles.metric} card`}>
          <p className={styles.metricLabel}>{TIMINGS.answer.label}</p>
          <p className={`${styles.metricValue} tabular`} data-timing="answer">
            {answer
              ? formatDuration(answer.ms)
              : isMoving(order)
                ? `${formatDuration(timeSoFar(order, now))}…`
                : "–"}
          </p>
          <p className={styles.metricCaption}>
            {answer?.outcome === "refused"
              ? "The Purchase request answered with an error: the checkout failed."
              : TIMINGS.answer.explains}
          </p>
        </div>
        <div className={`${styles.metric} card`}>
          <p className={styles.metricLabel}>{TIMINGS.done.label}</p>
          <p className={`${styles.metricValue} tabular`} data-timing="done">
            {done !== null
              ? formatDuration(done)
              : isParked(order)
                ? "Not yet"
                : isMoving(order)
                  ? "In progress"
                  : "–"}
          </p>
          <p className={styles.metricCaption}>
            {isParked(order)
              ? "A step waits in the dead-letter set until someone retries it."
              : TIMINGS.done.explains}
          </p>
        </div>
        <div className={`${styles.metric} card`}>
          <p className={styles.metricLabel}>Checkout mode</p>
          <p className={styles.metricValue}>{MODES[order.mode].label}</p>
          <p className={styles.metricCaption}>{sentence(MODES[order.mode].explains)}</p>
        </div>
      </section>
      {freeFor !== null && freeFor > 50 && order.status === "completed" && (
        <p className="hint">
          You had your answer {formatDuration(freeFor)} before the last step finished: that work happened
          without holding you hostage.
        </p>
      )}

      <Waterfall order={order} now={now} related={related.data} />
      <BehindTheScenes order={order} related={related.data} />

      <section className={`card ${styles.orderItems}`} aria-labelledby="items-title">
        <h2 id="items-title">Items</h2>
        <ul className={summary.summaryLines} aria-label="Items">
          {order.items.map((item) => (
            <li key={item.productId}>
              <span>
                {item.name} <span className="muted">× {item.quantity}</span>
              </span>
              <span>{formatPrice(item.unitPriceCents * item.quantity)}</span>
            </li>
          ))}
        </ul>
        <dl className={summary.summaryRows}>
          <div className={summary.summaryTotal}>
            <dt>Total</dt>
            <dd>{formatPrice(order.totalCents)}</dd>
          </div>
        </dl>
        <h2>Customer</h2>
        <p>
          {order.customer.name}
          <br />
          <span className="muted">{order.customer.email}</span>
        </p>
      </section>
    </article>
  );
}
