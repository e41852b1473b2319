// The run going on (or the last one): what it is doing, the backlog's drain rate and ETA, and the
// charts, redrawn every second from the shop's own metrics.
"use client";

import {
  BACKLOG_STATES,
  backlogOf,
  QUEUE_JOB_STATE_LABELS,
  QUEUE_JOB_STATES,
  type RunView,
  type RushSample,
  SIDE_EFFECT_STEPS,
} from "@/server/contract";
import {
  drainEstimates,
  formatCount,
  formatMs,
  formatRate,
  jobsIn,
  QUANTILE_COLORS,
  QUEUE_COLORS,
  queueLabel,
  STATE_COLORS,
} from "../../_lib/rush";
import styles from "./Rush.module.css";
import { TimeChart } from "./TimeChart";

type Quantile = keyof typeof QUANTILE_COLORS;

interface Props {
  run: RunView;
  step: { index: number; of: number } | null;
  /** The load is done and the run follows the backlog until it drains. */
  draining: boolean;
}

export function LiveRun({ run, step, draining }: Props) {
  const samples = run.samples;
  const x = samples.map((sample) => sample.t);
  const last = samples.at(-1);
  const lineOf = (
    label: string,
    color: string,
    pick: (sample: RushSample) => number | null,
    dashed = false,
  ) => ({
    label,
    color,
    values: samples.map(pick),
    dashed,
  });
  const quantileLines = (pick: (sample: RushSample) => RushSample["answerMs"], keys: Quantile[]) =>
    keys.map((key) => lineOf(key, QUANTILE_COLORS[key], (sample) => pick(sample)?.[key] ?? null));

  return (
    <section className={`card ${styles.section}`} aria-labelledby="live-title">
      <div className={styles.sectionHead}>
        <h2 id="live-title">
          {run.status === "running" ? "Running now" : "Last run"}: {run.label}
        </h2>
        <p className={styles.status} data-status={run.status}>
          <span aria-live="polite">{statusLine(run, step, draining)}</span>
          {run.status === "running" && <span> · {Math.round(run.samples.at(-1)?.t ?? 0)} s in</span>}
        </p>
      </div>
      {run.problem && (
        <p className="notice notice-error" role="alert">
          {run.problem}
        </p>
      )}
      <Backlog run={run} />
      <div className={styles.charts}>
        <TimeChart
          title="Orders placed per second"
          x={x}
          format={formatRate}
          lines={[
            lineOf("answered", QUANTILE_COLORS.p50, (s) => s.checkoutsPerSecond),
            lineOf("turned away (busy)", QUANTILE_COLORS.p99, (s) => s.refusedPerSecond, true),
          ]}
        />
        <TimeChart
          title="Time to answer a checkout"
          x={x}
          format={formatMs}
          lines={quantileLines((s) => s.answerMs, ["p50", "p95", "p99"])}
        />
        <TimeChart
          title="Time to done (eventual-consistency lag)"
          x={x}
          format={formatMs}
          lines={quantileLines((s) => s.doneMs, ["p50", "p95"])}
        />
        <TimeChart
          title="Jobs not done yet, per queue"
          x={x}
          whole
          format={formatCount}
          lines={SIDE_EFFECT_STEPS.map((step) =>
            lineOf(queueLabel(step), QUEUE_COLORS[step], (sample) => backlogOf(sample, step)),
          )}
        />
        <TimeChart
          title="Jobs not done yet, by state (all queues)"
          x={x}
          whole
          format={formatCount}
          lines={BACKLOG_STATES.map((state) =>
            lineOf(QUEUE_JOB_STATE_LABELS[state], STATE_COLORS[state], (sample) => jobsIn(sample, state)),
          )}
        />
        <TimeChart
          title="Web tier: requests in flight and request slots in use"
          x={x}
          whole
          format={formatCount}
          lines={[
            lineOf("in flight", QUANTILE_COLORS.p50, (s) => s.requestsInFlight),
            lineOf("slots in use", QUANTILE_COLORS.p95, (s) => s.requestSlotsInUse, true),
          ]}
        />
        <TimeChart
          title="Browsing beside it: catalog (product.list) latency"
          x={x}
          format={formatMs}
          lines={quantileLines((s) => s.catalogMs, ["p50", "p95"])}
        />
      </div>
      {last && (
        <table className={styles.queueTable}>
          <caption className="visually-hidden">Queues at the last second</caption>
          <thead>
            <tr>
              <th scope="col">Queue</th>
              {QUEUE_JOB_STATES.map((state) => (
                <th scope="col" key={state}>
                  {QUEUE_JOB_STATE_LABELS[state]}
                </th>
              ))}
              <th scope="col">Done per second</th>
            </tr>
          </thead>
          <tbody>
            {SIDE_EFFECT_STEPS.map((step) => (
              <tr key={step}>
                <th scope="row">{queueLabel(step)}</th>
                {QUEUE_JOB_STATES.map((state) => (
                  <td key={state} className="tabular">
                    {formatCount(last.queues[step]?.jobs[state] ?? 0)}
                  </td>
                ))}
                <td className="tabular">{formatRate(last.queues[step]?.donePerSecond ?? 0)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function statusLine(run: RunView, step: Props["step"], draining: boolean): string {
  const of = step && step.of > 1 ? ` (run ${step.index} of ${step.of})` : "";
  const seconds = Math.round(run.samples.at(-1)?.t ?? 0);
  switch (run.status) {
    case "running":
      // No seconds here: this line is announced when it changes.
      return draining ? `Load done${of}; following the backlog until it drains` : `Running${of}`;
    case "finished":
      return `Finished after ${seconds} s${of}; saved below.`;
    case "stopped":
      return `Stopped after ${seconds} s; saved below.`;
    case "failed":
      return "The load process failed.";
  }
}

/** "email: 42 waiting ÷ 6/s ≈ 7 s", for each queue with work left. */
function Backlog({ run }: { run: RunView }) {
  const estimates = drainEstimates(run.samples);
  if (estimates.length === 0) {
    return <p className={styles.backlog}>No backlog: every queue is keeping up.</p>;
  }
  return (
    <ul className={styles.backlog} aria-label="Backlog and when it drains">
      {estimates.map((estimate) => (
        <li key={estimate.step}>
          <strong>{queueLabel(estimate.step)}</strong>: {formatCount(estimate.backlog)} waiting ÷{" "}
          {formatRate(estimate.perSecond)}{" "}
          {estimate.seconds === null ? "(not draining yet)" : `≈ ${formatMs(estimate.seconds * 1000)}`}
        </li>
      ))}
    </ul>
  );
}
