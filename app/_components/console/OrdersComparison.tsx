// /orders: this browser's recent orders side by side, to compare the checkout modes on two numbers:
// time to answer (how long the shopper waited) and time to done (until the last step had finished).
// Refreshed every two seconds; an order still moving keeps its clock running.
"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import type { OrderView } from "@/server/contract";
import { answerOf, isMoving, isParked, timeSoFar } from "@/server/contract";
import { formatClock } from "../../_lib/console";
import { formatDuration, formatPrice } from "../../_lib/format";
import { ORDER_STATUS_COUNTED } from "../../_lib/labels";
import { MODES } from "../../_lib/mode";
import {
  type ConditionsGroup,
  groupByConditions,
  type ModeSummary,
  machineTimeToDone,
  operatorWaitMs,
  type Spread,
  summarizeModes,
  TIMINGS,
} from "../../_lib/order-timing";
import { useTRPC } from "../../_lib/trpc";
import { useNow } from "../../_lib/useNow";
import { OrderStatusBadge } from "../OrderStatusBadge";
import { ComparisonChart } from "./ComparisonChart";
import frame from "./Console.module.css";
import { ConsoleHeader, type ConsoleLink } from "./ConsoleHeader";
import { ConsoleTable } from "./ConsoleTable";
import styles from "./OrdersComparison.module.css";
import { QueryProblem } from "./QueryProblem";

const REFRESH_MS = 2000;

const LINKS: readonly ConsoleLink[] = [
  { href: "/dev", title: "Developer console →", text: "Make services slow or down, then order again" },
];

/** The table's "time to answer" cell: a duration, what the answer was, or that it has not come yet. */
function answerText(order: OrderView): string {
  const answer = answerOf(order);
  if (!answer) return "waiting…";
  return answer.outcome === "refused"
    ? `error after ${formatDuration(answer.ms)}`
    : formatDuration(answer.ms);
}

/** The table's "time to done" cell: the machines' time (a person's wait is in its own column), a
 * running clock, or parked in the dead-letter set. */
function doneText(order: OrderView, now: number): string {
  const done = machineTimeToDone(order);
  if (done !== null) return formatDuration(done);
  if (isParked(order)) return "parked: a step needs a retry";
  if (isMoving(order)) return `in progress · ${formatDuration(timeSoFar(order, now))}`;
  return "–";
}

/** The time a person took to act on the order's dead letter, if it had one. */
function operatorCell(order: OrderView, now: number): string {
  const waited = operatorWaitMs(order, now);
  return waited > 0 ? formatDuration(waited) : "–";
}

/** "1 cancelled, 1 failed": what a mode's medians leave out. */
function leftOutText(summary: ModeSummary): string {
  return summary.leftOut.map(({ status, count }) => `${count} ${ORDER_STATUS_COUNTED[status]}`).join(", ");
}

function spreadText(spread: Spread | null): string {
  if (!spread) return "";
  return spread.min === spread.max
    ? "one order"
    : `${formatDuration(spread.min)} – ${formatDuration(spread.max)}`;
}

/** "1 order also waited 1 min 28 s for an operator": the people's share, apart from the machines'. */
function operatorText(waits: readonly number[]): string {
  const list = waits.map((ms) => formatDuration(ms)).join(", ");
  return `${waits.length} ${waits.length === 1 ? "order" : "orders"} also waited for an operator's Retry (${list} in the dead-letter set): not in the figures above.`;
}

/** The two clocks a mode's card shows, each with its median and its spread. */
const MEDIAN_TIMINGS = ["answer", "done"] as const;

function ModeMedians({ orders }: { orders: readonly OrderView[] }) {
  return (
    <div>
      <p className={`hint ${styles.cmpMediansNote}`}>
        Medians count <strong>completed orders only</strong>, under one set of conditions, with the fastest
        and slowest beside them. A failed or cancelled checkout stops early and would make its mode look
        faster than it is, so those are listed beside the medians, never in them; time a step waited in the
        dead-letter set for a person is counted apart from the machines&rsquo; time.
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
              {MEDIAN_TIMINGS.map((timing) => {
                const value = summary[timing];
                return (
                  <div key={timing}>
                    <dt>{TIMINGS[timing].short}</dt>
                    <dd className="tabular" data-timing={timing}>
                      {value === null ? "–" : formatDuration(value)}
                    </dd>
                    <dd className={`tabular ${styles.cmpSpread}`} data-spread={timing}>
                      {spreadText(summary[`${timing}Spread`])}
                    </dd>
                  </div>
                );
              })}
            </dl>
            {summary.operatorWaits.length > 0 && (
              <p className={styles.cmpOperator} data-testid="operator-waits">
                {operatorText(summary.operatorWaits)}
              </p>
            )}
            {summary.leftOut.length > 0 && (
              <p className={styles.cmpLeftOut}>Not counted: {leftOutText(summary)}</p>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** What the knobs were, in words: the preset they are (nearest) to, and how they differ from it. */
function knobsText(group: ConditionsGroup): string {
  if (group.key === "unrecorded") return "These orders were placed before orders recorded their knobs.";
  if (group.changes.length === 0) return "Every service at the Realistic preset's knobs.";
  return `${group.changes.join("; ")}.`;
}

/** Which conditions to compare under: one group at a time, the newest order's first. */
function ConditionsPicker({
  groups,
  chosen,
  onChoose,
}: {
  groups: readonly ConditionsGroup[];
  chosen: ConditionsGroup;
  onChoose: (key: string) => void;
}) {
  const others = groups.length - 1;
  return (
    <section className={`card ${styles.cmpConditions}`} aria-label="Which conditions to compare">
      <div className={styles.cmpConditionsRow}>
        <label htmlFor="conditions-picker" className={styles.cmpConditionsLabel}>
          Conditions
        </label>
        <select id="conditions-picker" value={chosen.key} onChange={(event) => onChoose(event.target.value)}>
          {groups.map((group) => (
            <option key={group.key} value={group.key}>
              {group.label} · {group.orders.length} {group.orders.length === 1 ? "order" : "orders"}
            </option>
          ))}
        </select>
      </div>
      <p className={styles.cmpKnobs} data-testid="conditions-knobs">
        {knobsText(chosen)}
      </p>
      {others > 0 && (
        <p className="hint">
          Orders are compared only with orders placed under the same knobs. {others} other{" "}
          {others === 1 ? "set of conditions is" : "sets of conditions are"} in the list above.
        </p>
      )}
    </section>
  );
}

export function OrdersComparison() {
  const trpc = useTRPC();
  const mine = useQuery({ ...trpc.order.compare.queryOptions(), refetchInterval: REFRESH_MS });
  const groups = groupByConditions(mine.data ?? []);
  const [picked, setPicked] = useState<string | null>(null);
  const group = groups.find((candidate) => candidate.key === picked) ?? groups[0];
  const orders = group?.orders ?? [];
  const now = useNow(orders.some(isMoving));

  return (
    <div className={frame.console}>
      <ConsoleHeader eyebrow="Sync vs async, measured" title="Your orders, compared" links={LINKS}>
        Two clocks per order, both starting when the order reached the server: when the shopper had an answer,
        and when everything was done. <strong>Sync:</strong> answer ≈ done — the shopper waited for
        everything. <strong>Async:</strong> the answer comes early and done comes later — eventual
        consistency.
      </ConsoleHeader>

      {mine.isError && <QueryProblem error={mine.error} what="your orders" />}
      {mine.isPending ? (
        <p className="muted">Loading your orders…</p>
      ) : !group ? (
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
          <ConditionsPicker groups={groups} chosen={group} onChoose={setPicked} />
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
            <ConsoleTable
              className={`${frame.table} ${frame.wide} ${styles.ordersTable}`}
              head={
                <>
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
                  <th scope="col" className={`${frame.num} ${styles.ordersWide}`}>
                    Operator wait
                  </th>
                </>
              }
            >
              {orders.map((order) => (
                <OrderRow key={order.id} order={order} now={now} />
              ))}
            </ConsoleTable>
          </section>
        </>
      )}
    </div>
  );
}

/** A row of the recent orders' table. */
function OrderRow({ order, now }: { order: OrderView; now: number }) {
  return (
    <tr aria-label={`Order ${order.id}`} data-mode={order.mode}>
      <th scope="row">
        <Link href={`/orders/${order.id}`} className={frame.orderId}>
          {order.id.slice(0, 8)}
        </Link>
        {/* On a phone the mode and status columns fold in here (only one of the two is ever displayed,
            so nothing is read twice). */}
        <span className={styles.ordersFolded}>
          <span className={styles.modeTag} data-mode={order.mode}>
            {MODES[order.mode].label}
          </span>
          <OrderStatusBadge status={order.status} />
        </span>
      </th>
      <td className={`tabular nowrap ${styles.ordersWide}`}>{formatClock(order.createdAt, now)}</td>
      <td className={styles.ordersWide}>
        <span className={styles.modeTag} data-mode={order.mode}>
          {MODES[order.mode].label}
        </span>
      </td>
      <td className={styles.ordersWide}>
        <OrderStatusBadge status={order.status} />
      </td>
      <td className={`${frame.num} tabular ${styles.ordersWide}`}>{formatPrice(order.totalCents)}</td>
      <td className={`${frame.num} tabular`} data-timing="answer">
        {answerText(order)}
      </td>
      <td className={`${frame.num} tabular`} data-timing="done">
        {doneText(order, now)}
      </td>
      <td className={`${frame.num} tabular ${styles.ordersWide}`} data-timing="operator">
        {operatorCell(order, now)}
      </td>
    </tr>
  );
}
