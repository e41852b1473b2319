// The checkout-mode switch: async, sync or sync-parallel, with one line saying what the request will
// wait for, the fault preset in force, and a word when nothing is slow (then the modes look alike).
// The choice is remembered in localStorage and sent as `mode` with the next order.
"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { CHECKOUT_MODES } from "@/server/contract";
import { MODES, nothingToWaitFor, setCheckoutMode, useCheckoutMode } from "../_lib/mode";
import { useTRPC } from "../_lib/trpc";
import { ActivePreset } from "./ActivePreset";
import styles from "./ModeToggle.module.css";

export function ModeToggle() {
  const mode = useCheckoutMode();
  const trpc = useTRPC();
  // Refreshed, so a scenario picked in another tab shows up here. No answer (developer tools off or
  // locked): nothing is said.
  const settings = useQuery({
    ...trpc.dev.settings.queryOptions(),
    retry: false,
    staleTime: 5_000,
    refetchInterval: 10_000,
  });
  const instant = settings.data ? nothingToWaitFor(settings.data.services) : false;
  return (
    <div className={styles.modeBand}>
      <div className={`container ${styles.modeRow}`}>
        <span className={styles.modeCaption} aria-hidden="true">
          Checkout mode
        </span>
        <fieldset className={styles.segmented}>
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
        {settings.data && <ActivePreset services={settings.data.services} />}
        <p className={styles.modeExplainer} aria-live="polite">
          <strong>{MODES[mode].label}:</strong> {MODES[mode].explains}
        </p>
        {instant && (
          <p className={styles.modeInstant}>
            Right now every service answers instantly and nothing fails, so the three modes look alike.{" "}
            <Link href="/dev" prefetch={false}>
              Pick a slower scenario
            </Link>{" "}
            to feel the difference.
          </p>
        )}
      </div>
    </div>
  );
}
