// The three experiments: one click each, with what they show and what to look at.
"use client";

import { EXPERIMENTS, type ExperimentName } from "@/server/contract";
import styles from "./Rush.module.css";

const NAMES = Object.keys(EXPERIMENTS) as ExperimentName[];

interface Props {
  running: boolean;
  starting: ExperimentName | null;
  onStart: (name: ExperimentName) => void;
}

export function Experiments({ running, starting, onStart }: Props) {
  return (
    <section className={`card ${styles.section}`} aria-labelledby="experiments-title">
      <h2 id="experiments-title">Experiments</h2>
      <p className="hint">
        Each one sets the knobs it needs, runs its load (and a second or third run to compare with), saves the
        runs and puts the knobs back as they were.
      </p>
      <ol className={styles.experiments}>
        {NAMES.map((name) => {
          const experiment = EXPERIMENTS[name];
          return (
            <li key={name} className={styles.experiment}>
              <h3 className={styles.experimentTitle}>{experiment.label}</h3>
              <p className={styles.experimentText} id={`experiment-${name}-explains`}>
                {experiment.explains}
              </p>
              <p className={styles.lookAt}>
                <strong>Look at:</strong> {experiment.lookAt}
              </p>
              <p className="hint">
                {experiment.runs.length === 1
                  ? `One run: ${experiment.runs[0]?.label}.`
                  : `${experiment.runs.length} runs: ${experiment.runs.map((run) => run.label).join("; ")}.`}
              </p>
              <button
                type="button"
                className="button button-primary"
                aria-describedby={`experiment-${name}-explains`}
                disabled={running || starting !== null}
                onClick={() => onStart(name)}
              >
                {starting === name ? "Starting…" : `Run “${experiment.label}”`}
              </button>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
