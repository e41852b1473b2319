// One-click scenarios: each preset replaces every service's knobs and says what it demonstrates.
// The one matching the current knobs is marked, so a hand-tuned setup reads as "custom".
"use client";

import { PRESETS, type PresetName } from "@/server/contract";
import { PRESET_NAMES } from "../../_lib/mode";
import frame from "./Console.module.css";
import styles from "./PresetPicker.module.css";

interface Props {
  current: PresetName | null;
  applying: PresetName | null;
  onApply: (name: PresetName) => void;
}

export function PresetPicker({ current, applying, onApply }: Props) {
  return (
    <section className={`card ${frame.section}`} aria-labelledby="presets-title">
      <div className={frame.sectionHead}>
        <h2 id="presets-title">Scenarios</h2>
        <p className={frame.status} aria-live="polite">
          {current ? (
            <>
              Current: <strong>{PRESETS[current].label}</strong>
            </>
          ) : (
            "Current: custom knobs (no preset matches)"
          )}
        </p>
      </div>
      <p className={`hint ${frame.intro}`}>
        Each scenario sets every service&apos;s knobs at once. Pick one, then place a few orders in each
        checkout mode and compare them on the orders page.
      </p>
      <ul className={styles.presetGrid}>
        {PRESET_NAMES.map((name) => (
          // The whole card answers a click, but the button's name is just the scenario's visible label
          // (its explanation describes it), so what a person sees is what a voice user can say.
          <li key={name} className={styles.preset} data-pressed={name === current}>
            <span className={styles.presetHead}>
              <button
                type="button"
                className={styles.presetButton}
                aria-pressed={name === current}
                aria-describedby={`preset-${name}-explains`}
                disabled={applying !== null}
                onClick={() => onApply(name)}
              >
                {PRESETS[name].label}
              </button>
              {name === applying ? (
                <span className={styles.presetCurrent}>Applying…</span>
              ) : (
                name === current && (
                  <span className={styles.presetCurrent} aria-hidden="true">
                    Active
                  </span>
                )
              )}
            </span>
            <span className={styles.presetExplains} id={`preset-${name}-explains`}>
              {PRESETS[name].explains}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
