// Saved runs, and two to four of them laid side by side: the same charts with one line per run, and
// their figures in one table (sync vs async, 1 vs 16 consumers, …).
"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { MODES, type RunView, type RushSample, totalWaiting } from "@/server/contract";
import { runColors } from "../../_lib/colors";
import { formatClock } from "../../_lib/console";
import { alignRuns, formatCount, formatMs, formatRate, runFigures } from "../../_lib/rush";
import { useTRPC } from "../../_lib/trpc";
import { QueryProblem } from "../console/QueryProblem";
import styles from "./Rush.module.css";
import { TimeChart } from "./TimeChart";

const MAX_COMPARED = 4;

export function SavedRuns({ runs }: { runs: RunView[] }) {
  const [picked, setPicked] = useState<string[] | null>(null);
  // Until someone picks, the newest experiment's runs (or the two newest runs) are compared.
  const selected = picked ?? defaultSelection(runs);
  const toggle = (id: string) =>
    setPicked(
      selected.includes(id)
        ? selected.filter((other) => other !== id)
        : [...selected, id].slice(-MAX_COMPARED),
    );

  return (
    <section className={`card ${styles.section}`} aria-labelledby="saved-title">
      <h2 id="saved-title">Saved runs</h2>
      {runs.length === 0 ? (
        <p className="muted">No runs yet: start an experiment or a run of your own above.</p>
      ) : (
        <>
          <p className="hint">Tick two to four runs to lay them side by side.</p>
          <ul className={styles.runList}>
            {runs.map((run) => (
              <li key={run.id}>
                <label className={styles.runChoice}>
                  <input
                    type="checkbox"
                    checked={selected.includes(run.id)}
                    onChange={() => toggle(run.id)}
                  />
                  <span>
                    <span className={styles.runLabel}>{run.label}</span>
                    <span className={styles.runMeta}>
                      {formatClock(run.startedAt)} · {MODES[run.settings.load.mode].label} · {run.status}
                    </span>
                  </span>
                </label>
              </li>
            ))}
          </ul>
          {selected.length > 0 && <Comparison runIds={selected} />}
        </>
      )}
    </section>
  );
}

function defaultSelection(runs: RunView[]): string[] {
  const newest = runs[0];
  if (!newest) return [];
  const group = newest.experiment
    ? runs.filter((run) => run.experiment === newest.experiment).slice(0, MAX_COMPARED)
    : runs.slice(0, 2);
  return group.map((run) => run.id).reverse();
}

function Comparison({ runIds }: { runIds: string[] }) {
  const trpc = useTRPC();
  const compared = useQuery(trpc.dev.rush.compare.queryOptions({ runIds }));
  if (compared.isError) return <QueryProblem error={compared.error} what="the runs" />;
  if (!compared.data) return <p className="muted">Loading the runs…</p>;
  const runs = compared.data;
  // One colour per mode; runs of one mode (an experiment's 1, 4, 16 consumers) as its shades.
  const colors = runColors(runs.map((run) => run.settings.load.mode));
  // The same experiment twice has the same labels: the clock tells them apart.
  const names = runs.map((run) =>
    runs.filter((other) => other.label === run.label).length > 1
      ? `${run.label} · ${formatClock(run.startedAt)}`
      : run.label,
  );
  const chart = (
    title: string,
    pick: (sample: RushSample) => number | null,
    format: (value: number) => string,
  ) => {
    const { x, values } = alignRuns(runs, pick);
    return (
      <TimeChart
        title={title}
        x={x}
        format={format}
        lines={runs.map((run, index) => ({
          label: names[index] ?? run.label,
          color: colors[index] ?? "#5f646b",
          values: values[index] ?? [],
        }))}
      />
    );
  };
  const figures = runs.map(runFigures);

  return (
    <section className={styles.comparison} aria-label="Runs side by side">
      <table className={styles.figuresTable}>
        <thead>
          <tr>
            <th scope="col">Figure</th>
            {runs.map((run, index) => (
              <th scope="col" key={run.id}>
                <span className={styles.runSwatch} style={{ background: colors[index] }} aria-hidden="true" />
                {run.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {FIGURE_ROWS.map(([label, show]) => (
            <tr key={label}>
              <th scope="row">{label}</th>
              {figures.map((figure, index) => (
                <td key={runs[index]?.id} className="tabular">
                  {show(figure)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <div className={styles.charts}>
        {chart("Orders placed per second", (sample) => sample.checkoutsPerSecond, formatRate)}
        {chart("Time to answer, p95 of each second", (sample) => exactOr(sample, "answerMs"), formatMs)}
        {chart("Catalog latency, p95 of each second", (sample) => exactOr(sample, "catalogMs"), formatMs)}
        {chart("Jobs waiting, all queues", totalWaiting, formatCount)}
      </div>
    </section>
  );
}

/** A second's p95: exact from the lab's own figures; from buckets only for a run saved before it kept
 * them (its chart then says so in its legend: no exact figure is in it). */
function exactOr(sample: RushSample, timing: "answerMs" | "catalogMs"): number | null {
  return sample.measured ? (sample.measured[timing]?.p95 ?? null) : (sample[timing]?.p95 ?? null);
}

type Figures = ReturnType<typeof runFigures>;
const dash = (value: number | null, format: (value: number) => string) =>
  value === null ? "–" : format(value);
const FIGURE_ROWS: [string, (figures: Figures) => string][] = [
  ["Worker processes", (f) => formatCount(f.workerProcesses)],
  ["Consumers per queue, per worker", (f) => f.consumers],
  ["Request slots", (f) => (f.requestSlots === 0 ? "no limit" : formatCount(f.requestSlots))],
  ["Orders placed", (f) => formatCount(f.placed)],
  ["Orders placed per second, while the load ran", (f) => formatRate(f.perSecond)],
  ["Orders done per second, in the same seconds", (f) => dash(f.donePerSecond, formatRate)],
  ["Requests turned away (busy)", (f) => formatCount(f.refused)],
  ["Most requests waiting for a slot", (f) => formatCount(f.peakSlotWaiting)],
  ["Time to answer, p95 of every order", (f) => dash(f.answerP95, formatMs)],
  ["Time to done from the click, p95 of the orders followed", (f) => dash(f.doneP95, formatMs)],
  ["Catalog latency, p95 of every call", (f) => dash(f.catalogP95, formatMs)],
  ["Most jobs waiting (running ones aside)", (f) => formatCount(f.peakWaiting)],
  ["Every job done, seconds from the start", (f) => dash(f.drainedAfterS, (s) => `${Math.round(s)} s`)],
];
