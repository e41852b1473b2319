// The fault scenario the shop runs under, in the mode bar: which preset of the developer console is on
// ("Preset: Email outage"), or that every service is healthy, so a shopper comparing modes knows what
// they compare under.
"use client";

import Link from "next/link";
import { type OrderConditions as Conditions, knobChanges, type Settings } from "@/server/contract";
import { activePreset } from "../_lib/mode";
import styles from "./ActivePreset.module.css";

export function ActivePreset({ services }: { services: Settings["services"] }) {
  const preset = activePreset(services);
  return (
    <p className={styles.preset} data-preset={preset.name ?? "custom"}>
      <span className={styles.dot} aria-hidden="true" />
      <Link href="/dev" prefetch={false} aria-label={`${preset.label} (change it in the developer console)`}>
        {preset.label}
      </Link>
    </p>
  );
}

/** The knobs an order ran under, as recorded at its checkout: the preset they matched, and how they
 * differed from Realistic's, in words. */
export function OrderConditions({ conditions }: { conditions: Conditions | null }) {
  if (!conditions) {
    return (
      <p className={styles.preset} data-preset="unknown">
        Conditions not recorded (an older order)
      </p>
    );
  }
  const preset = activePreset(conditions.services);
  const changes = knobChanges(conditions.services);
  return (
    <>
      <p className={styles.preset} data-preset={preset.name ?? "custom"}>
        <span className={styles.dot} aria-hidden="true" />
        <span className={styles.presetText}>{preset.label}</span>
      </p>
      <p className={styles.knobs}>
        {changes.length > 0 ? changes.join("; ") : "Every service at the Realistic preset's knobs"}
        <span className="muted"> · at checkout</span>
      </p>
    </>
  );
}
