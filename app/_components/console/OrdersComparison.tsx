// /orders: this browser's recent orders side by side, to compare the checkout modes on two numbers:
// time to answer (how long the shopper waited) and time to done (until the last step had finished).
// Refreshed every two seconds; an order still moving keeps its clock running.
"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import type { OrderSummary } from "@/server/contract";
import { formatClock } from "../../_lib/console";
import { formatDuration, formatPrice } from "../../_lib/format";
import { ORDER_STATUS_COUNTED } from "../../_lib/labels";
import { MODES } from "../../_lib/mode";
import {
  answerOf,
  isMoving,
  isParked,
  type ModeSummary,
  summarizeModes,
  TIMINGS,
  timeSoFar,
  timeToDone,
} from "../../_lib/order-timing";
import { useTRPC } from "../../_lib/trpc";
import { useNow } from "../../_lib/useNow";
import { OrderStatusBadge } from "../OrderStatusBadge";
import { ComparisonChart } from "./ComparisonChart";
import frame from "./Console.module.css";
import { ConsoleHeader } from "./ConsoleHeader";
import styles from "./OrdersComparison.module.css";
import { QueryProblem } from "./QueryProblem";

const REFRESH_MS = 2000;
const NO_ORDERS: readonly OrderSummary[] = [];

/** The table's "time to answer" cell: a duration, what the answer was, or that it has not come yet. */
function answerText(order: OrderSummary): string {
  const answer = answerOf(order);
  if (!answer) return "waiting…";
  return answer.outcome === "refused"
    ? `error after ${formatDuration(answer.ms)}`
    : formatDuration(answer.ms);
}

/** The table's "time to done" cell: a duration, a running clock, or parked in the dead-letter set. */
function doneText(order: OrderSummary, now: number): string {
  const done = timeToDone(order);
  if (done !== null) return formatDuration(done);
  if (isParked(order)) return "parked: a step needs a retry";
  if (isMoving(order)) return `in progress · ${formatDuration(timeSoFar(order, now))}`;
  return "–";
}

/** "1 cancelled, 1 failed": what a mode's medians leave out. */
function leftOutText(summary: ModeSummary): string {
  return summary.leftOut.map(({ status, count }) => `${count} ${ORDER_STATUS_COUNTED[status]}`).join(", ");
}

function ModeMedians({ orders }: { orders: readonly OrderSummary[] }) {
  return (
    <div>
      <p className={`hint ${styles.cmpMediansNote}`}>
        Medians count <strong>completed orders only</strong>. A failed or cancelled checkout stops early and
        would make its mode look faster than it is, so those are listed beside the medians, never in them.
      </p>
      <ul className={styles.cmpMedians} aria-label="Medians per mode">
        {summarizeModes(orders).map((summary) => (
          <li
            key={summary.mode}
            className={`${styles.cmpMedian} card`}
            data-mode={summary.mode}
            aria-label={`${MODES[summary.mode].label} medians`}
          >
            <p className={styles.cmpMedianMode}>
              <span className={styles.modeSwatch} data-mode={summary.mode} aria-hidden="true" />
              {MODES[summary.mode].label}{" "}
              <span className="muted">· median of {summary.completed} completed</span>
            </p>
            <dl>
              <div>
                <dt>{TIMINGS.answer.short}</dt>
                <dd className="tabular" data-timing="answer">
                  {summary.answer === null ? "–" : formatDuration(summary.answer)}
                </dd>
              </div>
              <div>
                <dt>{TIMINGS.done.short}</dt>
                <dd className="tabular" data-timing="done">
                  {summary.done === null ? "–" : formatDuration(summary.done)}
                </dd>
              </div>
            </dl>
            {summary.leftOut.length > 0 && (
              <p className={styles.cmpLeftOut}>Not counted: {leftOutText(summary)}</p>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function OrdersComparison() {
  const trpc = useTRPC();
  const mine = useQuery({ ...trpc.order.mine.queryOptions({}), refetchInterval: REFRESH_MS });
  const orders = mine.data?.orders ?? NO_ORDERS;
  const now = useNow(orders.some(isMoving));

  return (
    <div className={frame.console}>
      <ConsoleHeader
        eyebrow="Sync vs async, measured"
        title="Your orders, compared"
        links={[
          {
            href: "/dev",
            title: "Developer console →",
            text: "Make services slow or down, then order again",
          },
        ]}
      >
        Two clocks per order, both starting when the order reached the server: when the shopper had an answer,
        and when everything was done. <strong>Sync:</strong> answer ≈ done — the shopper waited for
        everything. <strong>Async:</strong> the answer comes early and done comes later — eventual
        consistency.
      </ConsoleHeader>

      {mine.isError && <QueryProblem error={mine.error} what="your orders" />}
      {mine.isPending ? (
        <p className="muted">Loading your orders…</p>
      ) : orders.length === 0 ? (
        <div className="empty-state card">
          <h2>No orders from this browser yet</h2>
          <p>
            Pick the &ldquo;Realistic&rdquo; scenario in the developer console, then buy something once in
            each checkout mode (the toggle in the bar above). They appear here side by side.
          </p>
          <Link href="/" className="button button-primary">
            Go to the shop
          </Link>
        </div>
      ) : (
        <>
          <ModeMedians orders={orders} />
          <section className={`card ${frame.section}`} aria-labelledby="chart-title">
            <div className={frame.sectionHead}>
              <h2 id="chart-title">Waited vs done, per order</h2>
              <ul className={styles.legend} aria-label="Legend">
                <li>
                  <span className={`${styles.cmpKey} ${styles.cmpKeyAnswer}`} aria-hidden="true" />
                  {TIMINGS.answer.label}: the request held the shopper
                </li>
                <li>
                  <span className={`${styles.cmpKey} ${styles.cmpKeyDone}`} aria-hidden="true" />
                  {TIMINGS.done.label}: until the last step had finished
                </li>
              </ul>
            </div>
            <p className={`hint ${frame.intro}`}>
              Look at the gap between the two bars of a pair. No gap: the checkout waited for every side
              effect (temporal coupling, latencies stacking up). A wide gap: the shopper had an answer early
              and the rest finished in the background. Each group starts with its medians, then its most
              recent orders.
            </p>
            <ComparisonChart orders={orders} now={now} />
          </section>

          <section className={`card ${frame.section}`} aria-labelledby="orders-title">
            <h2 id="orders-title">Recent orders</h2>
            <div className={frame.tableScroll}>
              <table className={`${frame.table} ${frame.wide} ${styles.ordersTable}`}>
                <thead>
                  <tr>
                    <th scope="col">Order</th>
                    <th scope="col" className={styles.ordersWide}>
                      Placed
                    </th>
                    <th scope="col" className={styles.ordersWide}>
                      Mode
                    </th>
                    <th scope="col" className={styles.ordersWide}>
                      Status
                    </th>
                    <th scope="col" className={`${frame.num} ${styles.ordersWide}`}>
                      Total
                    </th>
                    <th scope="col" className={frame.num}>
                      {TIMINGS.answer.label}
                    </th>
                    <th scope="col" className={frame.num}>
                      {TIMINGS.done.label}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {orders.map((order) => (
                    <tr key={order.id} aria-label={`Order ${order.id}`} data-mode={order.mode}>
                      <th scope="row">
                        <Link href={`/orders/${order.id}`} className={frame.orderId}>
                          {order.id.slice(0, 8)}
                        </Link>
                        {/* On a phone the mode and status columns fold in here (only one of the two
                            is ever displayed, so nothing is read twice). */}
                        <span className={styles.ordersFolded}>
                          <span className={styles.modeTag} data-mode={order.mode}>
                            {MODES[order.mode].label}
                          </span>
                          <OrderStatusBadge status={order.status} />
                        </span>
                      </th>
                      <td className={`tabular nowrap ${styles.ordersWide}`}>
                        {formatClock(order.createdAt, now)}
                      </td>
                      <td className={styles.ordersWide}>
                        <span className={styles.modeTag} data-mode={order.mode}>
                          {MODES[order.mode].label}
                        </span>
                      </td>
                      <td className={styles.ordersWide}>
                        <OrderStatusBadge status={order.status} />
                      </td>
                      <td className={`${frame.num} tabular ${styles.ordersWide}`}>
                        {formatPrice(order.totalCents)}
                      </td>
                      <td className={`${frame.num} tabular`} data-timing="answer">
                        {answerText(order)}
                      </td>
                      <td className={`${frame.num} tabular`} data-timing="done">
                        {doneText(order, now)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        </>
      )}
    </div>
  );
}
