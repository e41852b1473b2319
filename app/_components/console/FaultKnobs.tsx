// The fault knobs of every simulated downstream service, one row per service. Each edit sends just
// that one field (numbers after a short pause in typing, switches at once), so two people, or a test
// and a person, can turn different knobs without overwriting each other.
"use client";

import { useEffect, useRef, useState } from "react";
import {
  MAX_LATENCY_MS,
  SERVICE_NAMES,
  SERVICES,
  type ServiceName,
  type ServiceSettings,
  type Settings,
  type SettingsPatch,
  STEP_NAMES,
  STEPS,
} from "@/server/contract";
import { replaced, useOptimisticKnob } from "../../_lib/useOptimisticKnob";
import frame from "./Console.module.css";
import { ConsoleTable } from "./ConsoleTable";
import styles from "./FaultKnobs.module.css";

const TYPING_PAUSE_MS = 500;

type NumberKnobName = "latencyMs" | "jitterMs" | "failureRate" | "capacity";

interface NumberKnobSpec {
  label: string;
  min: number;
  max: number;
  step: number;
  /** Shown value = stored value × scale (failure rate is stored 0–1, shown as %). */
  scale: number;
}

const NUMBER_KNOBS: Record<NumberKnobName, NumberKnobSpec> = {
  latencyMs: { label: "latency (ms)", min: 0, max: MAX_LATENCY_MS, step: 50, scale: 1 },
  jitterMs: { label: "jitter (ms)", min: 0, max: MAX_LATENCY_MS, step: 50, scale: 1 },
  failureRate: { label: "failure rate (%)", min: 0, max: 100, step: 5, scale: 100 },
  capacity: { label: "capacity", min: 1, max: 1000, step: 1, scale: 1 },
};

/** The table's columns after the service, in order; on a phone each cell carries its title itself. */
const KNOB_COLUMNS = ["latencyMs", "jitterMs", "failureRate", "down", "capacity"] as const;
const COLUMN_TITLES: Record<(typeof KNOB_COLUMNS)[number], string> = {
  latencyMs: "Latency (ms)",
  jitterMs: "Jitter (ms)",
  failureRate: "Failure rate (%)",
  down: "Down",
  capacity: "Capacity",
};

/** The steps that call each service, so a row says what it slows down. */
function stepsUsing(service: ServiceName) {
  return STEP_NAMES.filter((name) => STEPS[name].service === service).map((name) => STEPS[name]);
}

function NumberKnob({
  service,
  knob,
  value,
  onCommit,
}: {
  service: ServiceName;
  knob: NumberKnobName;
  value: number;
  onCommit: (value: number) => Promise<void>;
}) {
  const spec = NUMBER_KNOBS[knob];
  const [draft, setDraft] = useState<string | null>(null);
  const timer = useRef<number | undefined>(undefined);
  const shown = Math.round(value * spec.scale * 10) / 10;

  useEffect(() => () => window.clearTimeout(timer.current), []);

  const parse = (text: string): number | null => {
    if (text.trim() === "") return null;
    const number = Number(text);
    if (!Number.isFinite(number) || number < spec.min || number > spec.max) return null;
    if (spec.scale === 1 && !Number.isInteger(number)) return null;
    return number / spec.scale;
  };

  const commit = (text: string) => {
    window.clearTimeout(timer.current);
    const next = parse(text);
    if (next === null) return;
    if (next === value) return setDraft(null);
    // Keep showing what was typed until the server answered, unless the person typed on meanwhile.
    void onCommit(next).then(() => setDraft((current) => (current === text ? null : current)));
  };

  const invalid = draft !== null && parse(draft) === null;
  return (
    <input
      className={`${styles.knobNumber} tabular`}
      type="number"
      inputMode="numeric"
      aria-label={`${SERVICES[service].label} ${spec.label}`}
      aria-invalid={invalid || undefined}
      title={invalid ? `Between ${spec.min} and ${spec.max}` : undefined}
      min={spec.min}
      max={spec.max}
      step={spec.step}
      value={draft ?? String(shown)}
      onChange={(event) => {
        const text = event.target.value;
        setDraft(text);
        window.clearTimeout(timer.current);
        timer.current = window.setTimeout(() => commit(text), TYPING_PAUSE_MS);
      }}
      onBlur={() => {
        if (draft === null) return;
        if (parse(draft) === null) {
          window.clearTimeout(timer.current);
          setDraft(null);
        } else commit(draft);
      }}
      onKeyDown={(event) => {
        if (event.key === "Enter" && draft !== null) commit(draft);
      }}
    />
  );
}

/** The outage switch: it flips at once and flips back if the server refuses. */
function DownSwitch({
  service,
  down,
  onCommit,
}: {
  service: ServiceName;
  down: boolean;
  onCommit: (down: boolean) => Promise<void>;
}) {
  const [checked, flip] = useOptimisticKnob(down, replaced<boolean>, onCommit);
  return (
    <label className={styles.switch}>
      <input
        type="checkbox"
        role="switch"
        aria-checked={checked}
        aria-label={`${SERVICES[service].label} down`}
        checked={checked}
        onChange={(event) => flip(event.target.checked)}
      />
      <span className={styles.switchTrack} aria-hidden="true" />
      <span className={styles.switchText}>{checked ? "Down" : "Up"}</span>
    </label>
  );
}

interface Props {
  services: Settings["services"];
  onChange: (patch: SettingsPatch) => Promise<void>;
}

export function FaultKnobs({ services, onChange }: Props) {
  const set = (service: ServiceName, change: Partial<ServiceSettings>) =>
    onChange({ services: { [service]: change } });

  return (
    <section className={`card ${frame.section}`} aria-labelledby="knobs-title">
      <h2 id="knobs-title">Fault knobs</h2>
      <p className={`hint ${frame.intro}`}>
        Every downstream service is simulated in-process; these knobs are shared through Redis, so every web
        and worker process obeys them at once. Changes apply to the next call.
      </p>
      <ConsoleTable
        className={`${frame.table} ${frame.wide} ${styles.knobsTable} ${frame.stackOnPhone}`}
        head={
          <>
            <th scope="col">Service</th>
            {KNOB_COLUMNS.map((knob) => (
              <th key={knob} scope="col">
                {COLUMN_TITLES[knob]}
              </th>
            ))}
          </>
        }
      >
        {SERVICE_NAMES.map((service) => {
          const knobs = services[service];
          const steps = stepsUsing(service);
          const critical = steps.some((step) => step.phase === "critical");
          return (
            <tr key={service} data-flag={knobs.down ? "bad" : undefined}>
              <th scope="row">
                <span className={frame.knobService}>{SERVICES[service].label}</span>
                <span className={frame.knobUsedBy}>
                  {steps.map((step) => step.label).join(", ")}
                  <span className={styles.pathTag} data-phase={critical ? "critical" : "sideEffect"}>
                    {critical ? "critical path" : "side effect"}
                  </span>
                </span>
              </th>
              {(["latencyMs", "jitterMs", "failureRate"] as const).map((knob) => (
                <td key={knob} data-label={COLUMN_TITLES[knob]}>
                  <NumberKnob
                    service={service}
                    knob={knob}
                    value={knobs[knob]}
                    onCommit={(value) => set(service, { [knob]: value })}
                  />
                </td>
              ))}
              <td data-label={COLUMN_TITLES.down}>
                <DownSwitch service={service} down={knobs.down} onCommit={(down) => set(service, { down })} />
              </td>
              <td data-label={COLUMN_TITLES.capacity}>
                <NumberKnob
                  service={service}
                  knob="capacity"
                  value={knobs.capacity}
                  onCommit={(value) => set(service, { capacity: value })}
                />
              </td>
            </tr>
          );
        })}
      </ConsoleTable>
      <dl className={styles.knobNotes}>
        <div>
          <dt>Latency</dt>
          <dd>How long one call takes: a slow third-party API. In sync mode the shopper pays for it.</dd>
        </div>
        <div>
          <dt>Jitter</dt>
          <dd>Each call takes latency ± up to this much, so timings vary like real networks do.</dd>
        </div>
        <div>
          <dt>Failure rate</dt>
          <dd>
            Share of calls that fail at random (for payment, a decline). Async retries them with backoff.
          </dd>
        </div>
        <div>
          <dt>Down</dt>
          <dd>A hard outage: every call fails at once. Sync checkouts fail with it (temporal coupling).</dd>
        </div>
        <div>
          <dt>Capacity</dt>
          <dd>Calls served at once; the rest wait their turn, like a rate-limited API. Builds a backlog.</dd>
        </div>
      </dl>
    </section>
  );
}
