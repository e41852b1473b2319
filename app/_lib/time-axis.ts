// Where a moment sits along a time axis: round ticks from zero, and the axis with a break, which squeezes
// one long quiet stretch (a step parked for minutes until an operator's Retry) into a narrow gap so the
// busy part keeps its width. The waterfall draws its rows on it; the comparison chart uses its ticks.
const TICK_STEPS_MS = [
  10, 20, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 15_000, 30_000, 60_000,
];

/** Round axis ticks from 0 to at least `spanMs`, at most `maxTicks` intervals. */
export function niceTicks(spanMs: number, maxTicks = 6): number[] {
  const step =
    TICK_STEPS_MS.find((candidate) => spanMs / candidate <= maxTicks) ??
    Math.ceil(spanMs / maxTicks / 60_000) * 60_000;
  const count = Math.max(1, Math.ceil(spanMs / step));
  return Array.from({ length: count + 1 }, (_, index) => index * step);
}

/** Axis ticks, possibly with a break: when one quiet stretch (nothing starts or ends in it) takes most
 * of the span — a step parked for minutes until an operator's Retry — it is squeezed into a narrow gap
 * so the busy part keeps its width; the tail's length is said in words instead. */
export interface TimeScale {
  spanMs: number;
  /** Where `ms` sits along the track, 0–100. */
  percent: (ms: number) => number;
  ticks: number[];
  /** The squeezed stretch, if any. */
  gap: { fromMs: number; toMs: number } | null;
}

/** The share of the track the squeezed stretch keeps. */
const GAP_SHARE = 0.08;
/** A stretch is squeezed only if it is at least this share of the span, and this long. */
const GAP_MIN_SHARE = 0.5;
const GAP_MIN_MS = 5_000;

/** Room left after the last moment, as a share of what is shown. */
const END_ROOM = 0.06;

export function timeScale(events: readonly number[], maxTicks: number): TimeScale {
  const end = Math.max(100, ...events);
  const points = [...new Set([0, ...events.filter((ms) => ms >= 0)])].sort((a, b) => a - b);
  let gap: TimeScale["gap"] = null;
  for (let index = 1; index < points.length; index++) {
    const from = points[index - 1] ?? 0;
    const to = points[index] ?? 0;
    const wide = to - from >= GAP_MIN_MS && to - from >= end * GAP_MIN_SHARE;
    if (wide && (!gap || to - from > gap.toMs - gap.fromMs)) gap = { fromMs: from, toMs: to };
  }
  if (!gap) {
    const spanMs = end * (1 + END_ROOM);
    const ticks = niceTicks(spanMs, maxTicks).filter((tick) => tick <= spanMs);
    return { spanMs, percent: (ms) => clamp((ms / spanMs) * 100, 0, 100), ticks, gap: null };
  }
  // A little room either side of the quiet stretch, so the marks at its ends stay readable.
  const pad = Math.min((gap.toMs - gap.fromMs) * 0.05, (end - (gap.toMs - gap.fromMs)) * 0.03);
  const from = gap.fromMs + pad;
  const to = gap.toMs - pad;
  const shownBusy = end - (to - from);
  const spanMs = end + shownBusy * END_ROOM;
  const shown = spanMs - (to - from);
  const scale = (100 * (1 - GAP_SHARE)) / shown;
  const percent = (ms: number) => {
    const value =
      ms <= from
        ? ms * scale
        : ms >= to
          ? (from + ms - to) * scale + 100 * GAP_SHARE
          : from * scale + ((ms - from) / (to - from)) * 100 * GAP_SHARE;
    return clamp(value, 0, 100);
  };
  const before = niceTicks(from, Math.max(2, Math.round(maxTicks * (from / shown)))).filter(
    (tick) => tick <= from,
  );
  const afterStep = niceTicks(spanMs - to, 2)[1] ?? spanMs - to;
  const after = [Math.ceil(to / afterStep) * afterStep].filter((tick) => tick <= spanMs);
  return { spanMs, percent, ticks: [...before, ...after], gap: { fromMs: from, toMs: to } };
}

/** `value`, kept between `low` and `high`. */
export function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
