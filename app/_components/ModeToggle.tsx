// The checkout-mode switch: async, sync or sync-parallel, with one line saying what the request will
// wait for. The choice is remembered in localStorage and sent as `mode` with the next order.
"use client";

import { CHECKOUT_MODES } from "@/server/contract";
import { MODES, setCheckoutMode, useCheckoutMode } from "../_lib/mode";

export function ModeToggle() {
  const mode = useCheckoutMode();
  return (
    <div className="mode-band">
      <div className="container mode-row">
        <span className="mode-caption" aria-hidden="true">
          Checkout mode
        </span>
        <fieldset className="segmented">
          <legend className="visually-hidden">Checkout mode</legend>
          {CHECKOUT_MODES.map((option) => (
            <label key={option} data-checked={option === mode}>
              <input
                type="radio"
                name="checkout-mode"
                value={option}
                checked={option === mode}
                onChange={() => setCheckoutMode(option)}
              />
              {MODES[option].label}
            </label>
          ))}
        </fieldset>
        <p className="mode-explainer" aria-live="polite">
          <strong>{MODES[mode].label}:</strong> {MODES[mode].explains}
        </p>
      </div>
    </div>
  );
}
