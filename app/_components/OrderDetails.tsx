// One order, live: status, the two numbers that tell sync from async (time to answer, time to done),
// the waterfall of its steps, and what was bought. The snapshot comes from order.byId; every
// change after that arrives over socket.io.
"use client";

import { useQuery } from "@tanstack/react-query";
import { orderIdInput } from "@/server/contract";
import { formatDuration, formatPrice, sentence } from "../_lib/format";
import { orderHeadline, statusNote } from "../_lib/labels";
import { MODES } from "../_lib/mode";
import {
  answerOf,
  isMoving,
  isParked,
  TIMINGS,
  timeSoFar,
  timeToAnswer,
  timeToDone,
} from "../_lib/order-timing";
import { describeProblem, useTRPC } from "../_lib/trpc";
import { type LiveState, useLiveOrder } from "../_lib/useLiveOrder";
import { useNow } from "../_lib/useNow";
import { OrderNotFound } from "./OrderNotFound";
import { OrderStatusBadge } from "./OrderStatusBadge";
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
    <article className="order" aria-labelledby="order-title">
      <header className="order-head">
        <div>
          <p className="eyebrow">Order {order.id.slice(0, 8)}</p>
          <h1 id="order-title" className="page-title">
            {orderHeadline(order)}
          </h1>
          <p className="muted">Placed {placedAt.format(new Date(order.createdAt))}</p>
        </div>
        <section className="order-status" aria-label="Order status">
          {/* A live region: placed → completed, needs attention or cancelled is announced as it happens. */}
          <span role="status" aria-atomic="true" className="order-status-now">
            <span className="visually-hidden">Order status: </span>
            <OrderStatusBadge status={order.status} />
          </span>
          <span className="live-indicator" data-state={live} role="status">
            {LIVE_LABELS[live]}
          </span>
        </section>
      </header>
      <p className="status-note">{statusNote(order)}</p>
      {order.failureReason && (
        <div className="notice notice-error" role="alert">
          <p className="notice-title">What went wrong</p>
          <p>{order.failureReason}</p>
        </div>
      )}

      <section className="metrics" aria-label="Timings">
        <div className="metric card" data-timing="answer">
          <p className="metric-label">{TIMINGS.answer.label}</p>
          <p className="metric-value tabular">
            {answer
              ? formatDuration(answer.ms)
              : isMoving(order)
                ? `${formatDuration(timeSoFar(order, now))}…`
                : "–"}
          </p>
          <p className="metric-caption">
            {answer?.outcome === "refused"
              ? "The Purchase request answered with an error: the checkout failed."
              : TIMINGS.answer.explains}
          </p>
        </div>
        <div className="metric card" data-timing="done">
          <p className="metric-label">{TIMINGS.done.label}</p>
          <p className="metric-value tabular">
            {done !== null
              ? formatDuration(done)
              : isParked(order)
                ? "Not yet"
                : isMoving(order)
                  ? "In progress"
                  : "–"}
          </p>
          <p className="metric-caption">
            {isParked(order)
              ? "A step waits in the dead-letter set until someone retries it."
              : TIMINGS.done.explains}
          </p>
        </div>
        <div className="metric card">
          <p className="metric-label">Checkout mode</p>
          <p className="metric-value">{MODES[order.mode].label}</p>
          <p className="metric-caption">{sentence(MODES[order.mode].explains)}</p>
        </div>
      </section>
      {freeFor !== null && freeFor > 50 && order.status === "completed" && (
        <p className="hint">
          You had your answer {formatDuration(freeFor)} before the last step finished: that work happened
          without holding you hostage.
        </p>
      )}

      <Waterfall order={order} now={now} />

      <section className="card order-items" aria-labelledby="items-title">
        <h2 id="items-title">Items</h2>
        <ul className="summary-lines" aria-label="Items">
          {order.items.map((item) => (
            <li key={item.productId}>
              <span>
                {item.name} <span className="muted">× {item.quantity}</span>
              </span>
              <span>{formatPrice(item.unitPriceCents * item.quantity)}</span>
            </li>
          ))}
        </ul>
        <dl className="summary-rows">
          <div className="summary-total">
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
