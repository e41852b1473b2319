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
import { DONE_COLOR, LIMIT_COLOR, MODE_COLORS, REFUSED_COLOR, shade } from "../../_lib/colors";
import {
  backlogStory,
  drainBounds,
  drainBoundWords,
  drainEstimates,
  formatCount,
  formatMs,
  formatRate,
  jobsIn,
  orderRatesWords,
  QUEUE_COLORS,
  type Quantile,
  quantileStyle,
  queueLabel,
  STATE_COLORS,
  slotStory,
  type Timing,
  timingLines,
} from "../../_lib/rush";
import styles from "./Rush.module.css";
import { type ChartLine, TimeChart } from "./TimeChart";

interface Props {
  run: RunView;
  step: { index: number; of: number } | null;
  /** The load is done and the run follows the backlog until it drains. */
  draining: boolean;
}

export function LiveRun({ run, step, draining }: Props) {
  const samples = run.samples;
  const mode = run.settings.load.mode;
  const x = samples.map((sample) => sample.t);
  const last = samples.at(-1);
  const lineOf = (
    label: string,
    color: string,
    pick: (sample: RushSample) => number | null,
    dash?: number[],
  ): ChartLine => ({ label, color, values: samples.map(pick), dash });
  const timing = (title: string, figure: Timing, quantiles: Quantile[]) => {
    const lines = timingLines(run, figure, quantiles);
    return (
      <TimeChart
        title={title}
        note={timingNote(
          run,
          figure,
          lines.some((line) => line.estimate),
        )}
        x={x}
        format={formatMs}
        lines={lines.map((line) => {
          const style = quantileStyle(mode, line.quantile);
          return line.estimate
            ? {
                label: line.label,
                color: shade(style.color, 0.2),
                values: line.values,
                dash: [2, 4],
                width: 1,
              }
            : { label: line.label, values: line.values, ...style };
        })}
      />
    );
  };
  /** A chart of whole numbers of things (jobs, requests) over time. */
  const count = (title: string, lines: ChartLine[]) => (
    <TimeChart title={title} x={x} whole format={formatCount} lines={lines} />
  );
  const slotLimit = samples.some((sample) => sample.requestSlotLimit > 0);

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
          title="Orders placed and done per second"
          note="done: every side effect finished"
          x={x}
          format={formatRate}
          lines={[
            lineOf("placed", MODE_COLORS[mode], (s) => s.checkoutsPerSecond),
            lineOf("done", DONE_COLOR, (s) => s.ordersDonePerSecond),
            lineOf("turned away (busy)", REFUSED_COLOR, (s) => s.refusedPerSecond, [6, 4]),
          ]}
        />
        {timing("Time to answer a checkout", "answerMs", ["p50", "p95", "p99"])}
        {timing("Time to done, from the click (eventual-consistency lag)", "doneMs", ["p50", "p95"])}
        {count(
          "Jobs not done yet, per queue",
          SIDE_EFFECT_STEPS.map((step) =>
            lineOf(queueLabel(step), QUEUE_COLORS[step], (sample) => backlogOf(sample, step)),
          ),
        )}
        {count(
          "Jobs not done yet, by state (all queues)",
          BACKLOG_STATES.map((state) =>
            lineOf(QUEUE_JOB_STATE_LABELS[state], STATE_COLORS[state], (sample) => jobsIn(sample, state)),
          ),
        )}
        {count("Web tier: requests in flight, request slots", [
          lineOf("in flight", MODE_COLORS[mode], (s) => s.requestsInFlight),
          lineOf("slots in use", shade(MODE_COLORS[mode], 0.35), (s) => s.requestSlotsInUse, [6, 4]),
          ...(slotLimit
            ? [
                lineOf(
                  "slot limit",
                  LIMIT_COLOR,
                  (s) => (s.requestSlotLimit > 0 ? s.requestSlotLimit : null),
                  [2, 3],
                ),
                lineOf("waiting for a slot", REFUSED_COLOR, (s) => s.requestsWaitingForSlot),
              ]
            : []),
        ])}
        {timing("Browsing beside it: catalog (product.list) latency", "catalogMs", ["p50", "p95"])}
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

/** What a timing chart's figures are, in a few words. */
function timingNote(run: RunView, figure: Timing, estimated: boolean): string {
  const summary = run.summary;
  if (!run.samples.some((sample) => sample.measured !== null)) return "≈ from the shop's histogram buckets";
  if (figure === "doneMs" && summary && estimated) {
    return `exact for the ${formatCount(summary.doneMs.measured)} of ${formatCount(summary.placed)} orders followed; ≈ for all (from buckets)`;
  }
  const counted = run.samples.reduce((sum, sample) => sum + (sample.measured?.[figure]?.count ?? 0), 0);
  const what = figure === "catalogMs" ? "calls" : "orders";
  if (counted === 0) return "exact: none yet";
  return `exact, from ${formatCount(counted)} ${counted === 1 ? what.slice(0, -1) : what}`;
}

/** The words above the charts, from the same samples: per queue, what waits and when it will be done
 * (counting the jobs upstream queues will still make); else how high the backlog rose and when it was
 * gone; and the web tier's request slots when they are limited. */
function Backlog({ run }: { run: RunView }) {
  const estimates = drainEstimates(run.samples);
  const waiting = estimates.some((estimate) => estimate.waiting > 0);
  const story = backlogStory(run.samples);
  const live = run.status === "running";
  const slots = slotStory(run.samples, live);
  const orders = orderRatesWords(run.samples, live);
  const bounds = drainBounds(run);
  return (
    <div className={styles.backlog} data-run-words>
      {orders && <p>{orders}</p>}
      {slots && <p>{slots}</p>}
      {waiting ? (
        <ul aria-label="Backlog and when it drains">
          {estimates.map((estimate) => (
            <li key={estimate.step}>
              <strong>{queueLabel(estimate.step)}</strong>: {formatCount(estimate.waiting)} waiting
              {estimate.running > 0 && `, ${formatCount(estimate.running)} running`}
              {estimate.toCome > 0 &&
                ` + ${formatCount(estimate.toCome)} still to come from ${estimate.from.map(queueLabel).join(", ").toLowerCase()}`}{" "}
              ÷ {formatRate(estimate.perSecond)}{" "}
              {estimate.seconds === null ? "(not draining yet)" : `≈ ${formatMs(estimate.seconds * 1000)}`}
            </li>
          ))}
        </ul>
      ) : (
        story && <p>{story}</p>
      )}
      {bounds.length > 0 && (
        <>
          <p>
            Drain rate against its bound{live ? "" : ", over the last seconds jobs waited"} (consumers ÷
            latency, by Little&apos;s law):
          </p>
          <ul className={styles.bounds} aria-label="Drain rate against its bound">
            {bounds.map((bound) => (
              <li key={bound.step}>{drainBoundWords(bound)}</li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
