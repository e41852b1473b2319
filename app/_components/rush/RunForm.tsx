// A run by hand: how many shoppers, how long each pauses between orders, for how long, in which
// checkout mode, with which scenario's knobs. The same settings as `npm run load`.
"use client";

import { type FormEvent, useState } from "react";
import {
  CHECKOUT_MODES,
  type CheckoutMode,
  type LoadRequest,
  loadRequestSchema,
  MAX_SHOPPERS,
  MODES,
  PRESETS,
  type PresetName,
  RUSH_STOCK,
} from "@/server/contract";
import { PRESET_NAMES } from "../../_lib/mode";
import styles from "./Rush.module.css";

const PAUSES_MS = [0, 250, 500, 1000, 2000];
const DURATIONS_S = [10, 20, 30, 60, 120];

interface Props {
  running: boolean;
  starting: boolean;
  stopping: boolean;
  onStart: (request: LoadRequest) => void;
  onStop: () => void;
}

export function RunForm({ running, starting, stopping, onStart, onStop }: Props) {
  const [shoppers, setShoppers] = useState("20");
  const [pauseMs, setPauseMs] = useState(1000);
  const [durationSeconds, setDurationSeconds] = useState(20);
  const [mode, setMode] = useState<CheckoutMode>("async");
  const [preset, setPreset] = useState<PresetName | "">("");
  const [problem, setProblem] = useState<string | null>(null);

  function stop() {
    if (running && !stopping) onStop();
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (running || starting) return;
    const request: LoadRequest = {
      shoppers: Number(shoppers),
      pause: pauseMs,
      duration: durationSeconds * 1000,
      mode,
      preset: preset === "" ? undefined : preset,
    };
    const parsed = loadRequestSchema.safeParse(request);
    if (!parsed.success) return setProblem(parsed.error.issues[0]?.message ?? "Check the settings.");
    setProblem(null);
    onStart(request);
  }

  return (
    <section className={`card ${styles.section}`} aria-labelledby="run-title">
      <h2 id="run-title">A run of your own</h2>
      <form className={styles.runForm} onSubmit={submit} noValidate aria-label="Start a rush">
        <label className={styles.knob}>
          <span className={styles.knobName}>Shoppers</span>
          <input
            type="number"
            inputMode="numeric"
            min={1}
            max={MAX_SHOPPERS}
            value={shoppers}
            onChange={(event) => setShoppers(event.target.value)}
            aria-invalid={problem !== null}
            aria-describedby={problem ? "run-problem" : undefined}
          />
        </label>
        <label className={styles.knob}>
          <span className={styles.knobName}>Pause between orders</span>
          <select value={pauseMs} onChange={(event) => setPauseMs(Number(event.target.value))}>
            {PAUSES_MS.map((ms) => (
              <option key={ms} value={ms}>
                {ms === 0 ? "None" : ms < 1000 ? `${ms} ms` : `${ms / 1000} s`}
              </option>
            ))}
          </select>
        </label>
        <label className={styles.knob}>
          <span className={styles.knobName}>Duration</span>
          <select
            value={durationSeconds}
            onChange={(event) => setDurationSeconds(Number(event.target.value))}
          >
            {DURATIONS_S.map((seconds) => (
              <option key={seconds} value={seconds}>
                {seconds} s
              </option>
            ))}
          </select>
        </label>
        <label className={styles.knob}>
          <span className={styles.knobName}>Checkout mode</span>
          <select value={mode} onChange={(event) => setMode(event.target.value as CheckoutMode)}>
            {CHECKOUT_MODES.map((name) => (
              <option key={name} value={name}>
                {MODES[name].label}
              </option>
            ))}
          </select>
        </label>
        <label className={styles.knob}>
          <span className={styles.knobName}>Scenario</span>
          <select value={preset} onChange={(event) => setPreset(event.target.value as PresetName | "")}>
            <option value="">Current knobs</option>
            {PRESET_NAMES.map((name) => (
              <option key={name} value={name}>
                {PRESETS[name].label}
              </option>
            ))}
          </select>
        </label>
        <div className={styles.runButtons}>
          {/* Both stay in place (aria-disabled, not disabled), so the keyboard focus stays where it was. */}
          <button type="submit" className="button button-primary" aria-disabled={running || starting}>
            {starting ? "Starting…" : "Start"}
          </button>
          <button type="button" className="button" aria-disabled={!running || stopping} onClick={stop}>
            {stopping ? "Stopping…" : "Stop"}
          </button>
        </div>
      </form>
      {problem && (
        <p className="field-error" id="run-problem" role="alert">
          {problem}
        </p>
      )}
      <p className="hint">
        Each shopper lists the products, places an order with a fresh idempotency key, pauses, and again,
        until the time is up: the same load as <code>npm run load -- --shoppers {shoppers || "N"}</code>.
        Every run first tops each product up to {RUSH_STOCK.toLocaleString("en")} in stock, so it measures
        checkouts, not empty shelves.
      </p>
    </section>
  );
}
