// One colour per checkout mode, for every picture that tells the modes apart (the saved-run comparison
// and the live charts of the Rush hour lab, the /orders comparison): a reader who learns "async is
// green" on one page can trust it on the next. The stylesheets read the same values through CSS
// variables (MODE_COLOR_VARIABLES, set once on the page's body). Several runs of one mode (an
// experiment's 1, 4 and 16 consumers) are shades of that mode's colour, light to dark in run order.
import type { CSSProperties } from "react";
import { CHECKOUT_MODES, type CheckoutMode } from "@/server/contract";

export const MODE_COLORS: Record<CheckoutMode, string> = {
  async: "#2f5d50",
  sync: "#9a5c14",
  "sync-parallel": "#3867a8",
};

/** `--mode-async`, `--mode-sync`, `--mode-sync-parallel`, for the stylesheets. */
export const MODE_COLOR_VARIABLES = Object.fromEntries(
  CHECKOUT_MODES.map((mode) => [`--mode-${mode}`, MODE_COLORS[mode]]),
) as CSSProperties;

/** Something that went wrong (requests turned away): the same red everywhere, never a mode's colour. */
export const REFUSED_COLOR = "#b3261e";
/** Orders done (every side effect finished) beside orders placed: never a mode's colour. */
export const DONE_COLOR = "#6a4c9c";
/** A limit drawn as a line (the request slots): quiet grey. */
export const LIMIT_COLOR = "#5f646b";

/** `color` mixed towards white (amount > 0) or black (amount < 0), |amount| ≤ 1. */
export function shade(color: string, amount: number): string {
  const hex = /^#([0-9a-f]{6})$/i.exec(color)?.[1];
  if (!hex) return color;
  const target = amount > 0 ? 255 : 0;
  const weight = Math.min(1, Math.abs(amount));
  const channels = [0, 2, 4].map((at) => {
    const value = Number.parseInt(hex.slice(at, at + 2), 16);
    return Math.round(value + (target - value) * weight)
      .toString(16)
      .padStart(2, "0");
  });
  return `#${channels.join("")}`;
}

/** Lightest and darkest shade of a mode's colour when several runs share it. */
const LIGHTEST = 0.45;
const DARKEST = -0.35;

/** `count` shades of the mode's colour, light to dark; one run alone gets the colour itself. */
export function modeShades(mode: CheckoutMode, count: number): string[] {
  const base = MODE_COLORS[mode];
  if (count <= 1) return [base];
  return Array.from({ length: count }, (_, index) =>
    shade(base, LIGHTEST + ((DARKEST - LIGHTEST) * index) / (count - 1)),
  );
}

/** A colour for each run, in order: its mode's colour, or one of its shades when other runs share the
 * mode (so two sync runs beside an async one are two browns and a green). */
export function runColors(modes: readonly CheckoutMode[]): string[] {
  const shades = new Map(
    CHECKOUT_MODES.map((mode) => [mode, modeShades(mode, modes.filter((other) => other === mode).length)]),
  );
  const used = new Map<CheckoutMode, number>();
  return modes.map((mode) => {
    const index = used.get(mode) ?? 0;
    used.set(mode, index + 1);
    return shades.get(mode)?.[index] ?? MODE_COLORS[mode];
  });
}
