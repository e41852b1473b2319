// The checkout mode in the header; it fills `mode` in order.place. Until the shopper picks one, it is
// the developer console's default (or async when the console is off). Also which fault preset the knobs
// match, for the mode bar and the console alike.
"use client";

import { useQuery } from "@tanstack/react-query";
import {
  type CheckoutMode,
  checkoutModeSchema,
  matchingPreset,
  PRESETS,
  type PresetName,
  SERVICE_NAMES,
  type Settings,
} from "@/server/contract";
import { storedValue } from "./stored";
import { useTRPC } from "./trpc";

const choice = storedValue<CheckoutMode | null>(
  "slow-morning:checkout-mode",
  checkoutModeSchema.nullable(),
  null,
);

export function useCheckoutMode(): CheckoutMode {
  const chosen = choice.use();
  const trpc = useTRPC();
  const settings = useQuery({
    ...trpc.dev.settings.queryOptions(),
    enabled: chosen === null,
    retry: false,
    staleTime: 5_000,
  });
  return chosen ?? settings.data?.defaultMode ?? "async";
}

export const setCheckoutMode = choice.set;

/** Nothing is slow and nothing fails (every knob at zero, as in "All fast"): then all three modes
 * answer at once and look alike, which a shopper trying them should be told. */
export function nothingToWaitFor(services: Settings["services"]): boolean {
  return SERVICE_NAMES.every((name) => {
    const knobs = services[name];
    return knobs.latencyMs === 0 && knobs.jitterMs === 0 && knobs.failureRate === 0 && !knobs.down;
  });
}

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];
export { matchingPreset };

export interface ActivePreset {
  /** The preset whose knobs are set exactly, if any. */
  name: PresetName | null;
  /** What the mode bar says. */
  label: string;
}

/** Which fault scenario the knobs are in right now: every knob at zero reads as healthy; knobs that
 * match a preset of the console exactly, as that preset; anything else as custom. */
export function activePreset(services: Settings["services"]): ActivePreset {
  if (nothingToWaitFor(services)) return { name: "all-fast", label: "All services healthy" };
  const name = matchingPreset(services);
  return name
    ? { name, label: `Preset: ${PRESETS[name].label}` }
    : { name: null, label: "Custom fault knobs" };
}

export { MODES } from "@/server/contract";
