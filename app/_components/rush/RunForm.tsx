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
        <Choice
          name="Pause between orders"
          value={pauseMs}
          choices={PAUSES_MS}
          label={(ms) => (ms === 0 ? "None" : ms < 1000 ? `${ms} ms` : `${ms / 1000} s`)}
          onChoose={setPauseMs}
        />
        <Choice
          name="Duration"
          value={durationSeconds}
          choices={DURATIONS_S}
          label={(seconds) => `${seconds} s`}
          onChoose={setDurationSeconds}
        />
        <Choice
          name="Checkout mode"
          value={mode}
          choices={CHECKOUT_MODES}
          label={(name) => MODES[name].label}
          onChoose={setMode}
        />
        <Choice
          name="Scenario"
          value={preset}
          choices={["", ...PRESET_NAMES] as const}
          label={(name) => (name === "" ? "Current knobs" : PRESETS[name].label)}
          onChoose={setPreset}
        />
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

/** A knob of the form: one of a few values, each shown by its label. */
function Choice<Value extends string | number>({
  name,
  value,
  choices,
  label,
  onChoose,
}: {
  name: string;
  value: Value;
  choices: readonly Value[];
  label: (choice: Value) => string;
  onChoose: (choice: Value) => void;
}) {
  return (
    <label className={styles.knob}>
      <span className={styles.knobName}>{name}</span>
      <select
        value={value}
        onChange={(event) => {
          const chosen = choices.find((choice) => String(choice) === event.target.value);
          if (chosen !== undefined) onChoose(chosen);
        }}
      >
        {choices.map((choice) => (
          <option key={choice} value={choice}>
            {label(choice)}
          </option>
        ))}
      </select>
    </label>
  );
}
