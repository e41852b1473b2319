// The side-effect queues, refreshed every second: jobs per state, a 30-second backlog sparkline, and a
// Pause/Resume switch that takes a queue's consumers offline, to show that messages can wait.
"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import {
  COMPLETED_KEPT,
  QUEUE_JOB_STATE_LABELS,
  QUEUE_JOB_STATES,
  type QueueJobState,
  type SideEffectStep,
  STEPS,
} from "@/server/contract";
import type { QueueSummary } from "../../_lib/console";
import { useTRPC } from "../../_lib/trpc";
import frame from "./Console.module.css";
import { ConsoleTable } from "./ConsoleTable";
import { QueryProblem } from "./QueryProblem";
import styles from "./QueuesPanel.module.css";

const REFRESH_MS = 1000;
const HISTORY_SAMPLES = 30;

/** The panel's columns: BullMQ's states, with "active" split into running and waiting for the provider
 * (a job holding its worker while its provider's capacity is used up by other calls). */
type Column = QueueJobState | "completed";
const COLUMNS: readonly Column[] = [
  ...QUEUE_JOB_STATES.filter((state) => state !== "failed"),
  "completed",
  "failed",
];

const COLUMN_LABELS: Record<Column, string> = { ...QUEUE_JOB_STATE_LABELS, completed: "Completed, kept" };

const COLUMN_HINTS: Record<Column, string> = {
  waiting: "queued, not picked up by a consumer yet",
  running: "picked up and running its step now",
  waiting_for_provider: "picked up, waiting for a free slot of its provider (the capacity knob)",
  delayed: "waiting out a retry backoff",
  completed: `done: the newest ${COMPLETED_KEPT.count.toLocaleString("en")} of the last day are kept, older ones removed (not a total)`,
  failed: "out of retries: the dead-letter set",
};

function countOf(queue: QueueSummary, column: Column): number {
  if (column === "running") return queue.active.running;
  if (column === "waiting_for_provider") return queue.active.waitingForProvider;
  return queue.counts[column];
}

/** Completed jobs are what BullMQ keeps: at its cap, the count says so rather than pass for a total. */
function keptText(count: number): string {
  const kept = count.toLocaleString("en");
  return count >= COMPLETED_KEPT.count ? `${kept} kept (the cap)` : `${kept} kept`;
}

/** Work not finished yet: what a paused or slow consumer lets pile up. */
function backlog(queue: QueueSummary): number {
  return queue.counts.waiting + queue.counts.active + queue.counts.delayed;
}

function Sparkline({ values, name }: { values: readonly number[]; name: string }) {
  const width = 120;
  const height = 28;
  const base = height - 2;
  const top = Math.max(1, ...values);
  const spacing = width / (HISTORY_SAMPLES - 1);
  // The newest sample sits at the right edge; older ones scroll off to the left.
  const coords = values.map((value, index) => ({
    x: width - (values.length - 1 - index) * spacing,
    y: base - (value / top) * (height - 6),
  }));
  const line = coords.map(({ x, y }) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
  const first = coords[0];
  return (
    <svg
      className={styles.sparkline}
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
      role="img"
      aria-label={`${name} backlog over the last 30 seconds, now ${values.at(-1) ?? 0}`}
    >
      <line x1="0" x2={width} y1={base} y2={base} className={styles.sparklineBase} />
      {first && coords.length > 1 && (
        <>
          <polygon
            className={styles.sparklineArea}
            points={`${first.x.toFixed(1)},${base} ${line} ${width},${base}`}
          />
          <polyline className={styles.sparklineLine} points={line} />
        </>
      )}
    </svg>
  );
}

export function QueuesPanel() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const queues = useQuery({ ...trpc.dev.queues.queryOptions(), refetchInterval: REFRESH_MS });
  const [history, setHistory] = useState<Partial<Record<SideEffectStep, number[]>>>({});
  const refresh = () => queryClient.invalidateQueries(trpc.dev.queues.queryFilter());
  const pause = useMutation(trpc.dev.pauseQueue.mutationOptions({ onSettled: refresh }));
  const resume = useMutation(trpc.dev.resumeQueue.mutationOptions({ onSettled: refresh }));

  // One sample per answer, also when the numbers did not change (then `data` keeps its identity).
  const { data, dataUpdatedAt } = queues;
  useEffect(() => {
    if (!data || dataUpdatedAt === 0) return;
    setHistory((current) => {
      const next: Partial<Record<SideEffectStep, number[]>> = {};
      for (const queue of data) {
        next[queue.name] = [...(current[queue.name] ?? []), backlog(queue)].slice(-HISTORY_SAMPLES);
      }
      return next;
    });
  }, [data, dataUpdatedAt]);

  const switching = pause.isPending || resume.isPending;
  const anyPaused = data?.some((queue) => queue.paused) ?? false;

  return (
    <section className={`card ${frame.section}`} aria-labelledby="queues-title">
      <div className={frame.sectionHead}>
        <h2 id="queues-title">Queues</h2>
        <p className={frame.status}>
          <span className={styles.liveDot} aria-hidden="true" /> refreshed every second
        </p>
      </div>
      <p className={`hint ${frame.intro}`}>
        One BullMQ queue per side effect. In async mode the order is confirmed first and these carry the rest.
        Pause a queue to take its consumers offline: new orders still go through, and their work waits here
        until you resume. A job a consumer has picked up but whose provider is at capacity counts as waiting
        for the provider, not running.
      </p>
      {queues.isError && <QueryProblem error={queues.error} what="the queues" />}
      {anyPaused && (
        <p className={`notice ${styles.noticePaused}`} role="status">
          A paused queue is not an outage for shoppers: orders are still confirmed, and the messages wait
          (eventual consistency). Resume it and the backlog drains.
        </p>
      )}
      <ConsoleTable
        className={`${frame.table} ${styles.queuesTable} ${frame.stackOnPhone}`}
        head={
          <>
            <th scope="col">Queue</th>
            <th scope="col">Backlog, last 30&nbsp;s</th>
            {COLUMNS.map((column) => (
              <th key={column} scope="col" className={frame.num} title={COLUMN_HINTS[column]}>
                {COLUMN_LABELS[column]}
              </th>
            ))}
            <th scope="col">Consumers</th>
          </>
        }
      >
        {queues.isPending && (
          <tr>
            <td colSpan={COLUMNS.length + 3} className="muted">
              Loading queues…
            </td>
          </tr>
        )}
        {data?.map((queue) => (
          <QueueRow
            key={queue.name}
            queue={queue}
            history={history[queue.name] ?? []}
            switching={switching}
            onSwitch={() =>
              queue.paused ? resume.mutate({ queue: queue.name }) : pause.mutate({ queue: queue.name })
            }
          />
        ))}
      </ConsoleTable>
    </section>
  );
}

function QueueRow({
  queue,
  history,
  switching,
  onSwitch,
}: {
  queue: QueueSummary;
  history: readonly number[];
  switching: boolean;
  onSwitch: () => void;
}) {
  return (
    <tr aria-label={`${queue.name} queue`} data-flag={queue.paused ? "warn" : undefined}>
      <th scope="row">
        <code className={styles.queueName}>{queue.name}</code>
        {queue.paused ? (
          <span className={`${frame.knobUsedBy} ${styles.queueOffline}`}>
            consumers offline — messages can wait
          </span>
        ) : (
          <span className={frame.knobUsedBy}>{STEPS[queue.name].label}</span>
        )}
        {queue.redriven.count > 0 && (
          <span
            className={frame.knobUsedBy}
            title="Jobs Redis lost, handed to the queue again by the worker's reconciler"
          >
            re-driven {queue.redriven.count}×
            {queue.redriven.lastAt && `, last at ${new Date(queue.redriven.lastAt).toLocaleTimeString()}`}
          </span>
        )}
      </th>
      <td data-label="Backlog, last 30 s" className={frame.stackWide}>
        <Sparkline values={history} name={queue.name} />
      </td>
      {COLUMNS.map((column) => (
        <td
          key={column}
          className={`${frame.num} tabular`}
          data-label={COLUMN_LABELS[column]}
          data-state={column}
          data-zero={countOf(queue, column) === 0 || undefined}
        >
          {column === "completed"
            ? keptText(countOf(queue, column))
            : countOf(queue, column).toLocaleString("en")}
        </td>
      ))}
      <td data-label="Consumers" className={frame.stackWide}>
        <div className={styles.queueConsumers}>
          <span className={styles.queueState} data-paused={queue.paused || undefined}>
            {queue.paused ? "Paused" : "Running"}
          </span>
          <button
            type="button"
            className="button button-small"
            aria-label={`${queue.paused ? "Resume" : "Pause"} ${queue.name} queue`}
            disabled={switching}
            onClick={onSwitch}
          >
            {queue.paused ? "Resume" : "Pause"}
          </button>
        </div>
      </td>
    </tr>
  );
}
