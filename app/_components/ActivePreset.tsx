// The fault scenario the shop runs under, in the mode bar: which preset of the developer console is on
// ("Preset: Email outage"), or that every service is healthy, so a shopper comparing modes knows what
// they compare under.
"use client";

import Link from "next/link";
import type { Settings } from "@/server/contract";
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
