// The checkout mode an order gets when the request does not choose one, with what each mode waits for.
"use client";

import { CHECKOUT_MODES, type CheckoutMode } from "@/server/contract";
import { sentence } from "../../_lib/format";
import { MODES } from "../../_lib/mode";
import { replaced, useOptimisticKnob } from "../../_lib/useOptimisticKnob";
import frame from "./Console.module.css";
import styles from "./DefaultModeSetting.module.css";

interface Props {
  value: CheckoutMode;
  /** Resolves once the server answered; until then the choice is shown as made. */
  onChange: (mode: CheckoutMode) => Promise<void>;
}

export function DefaultModeSetting({ value, onChange }: Props) {
  const [selected, choose] = useOptimisticKnob(value, replaced<CheckoutMode>, onChange);
  return (
    <section className={`card ${frame.section}`} aria-labelledby="default-mode-title">
      <h2 id="default-mode-title">Default checkout mode</h2>
      <p className={`hint ${frame.intro}`}>
        Used for orders placed without a mode (API clients, scripts, load tests), and by the toggle in the bar
        above until a shopper picks a mode there.
      </p>
      <fieldset className={styles.modeOptions}>
        <legend className="visually-hidden">Default checkout mode</legend>
        {CHECKOUT_MODES.map((mode) => (
          <label key={mode} className={styles.modeOption} data-checked={mode === selected}>
            <input
              type="radio"
              name="default-mode"
              value={mode}
              aria-labelledby={`default-mode-${mode}`}
              aria-describedby={`default-mode-${mode}-explains`}
              checked={mode === selected}
              onChange={() => choose(mode)}
            />
            <span className={styles.modeOptionText}>
              <span className={styles.modeOptionName} id={`default-mode-${mode}`}>
                {MODES[mode].label}
              </span>
              <span className={styles.modeOptionExplains} id={`default-mode-${mode}-explains`}>
                {sentence(MODES[mode].explains)}
              </span>
            </span>
          </label>
        ))}
      </fieldset>
    </section>
  );
}
