// The conditions an order ran under, recorded with it at checkout: the fault knobs of every service at
// that moment and the console preset they matched (or "custom"). The mode is the order's own column.
// An order viewed later is then described as it was, not as the shop is now, and orders are compared
// only with orders that ran under the same conditions.
import { z } from "zod";
import {
  PRESETS,
  type PresetName,
  presetNameSchema,
  REALISTIC_SETTINGS,
  SERVICES,
  type Settings,
  serviceSettingsSchema,
  settingsSchema,
} from "./services";
import { SERVICE_NAMES } from "./steps";

export const CUSTOM_CONDITIONS = "custom";

export const orderConditionsSchema = z.object({
  /** The console preset the knobs matched exactly, or "custom". */
  preset: z.union([presetNameSchema, z.literal(CUSTOM_CONDITIONS)]),
  services: settingsSchema.shape.services,
});
export type OrderConditions = z.infer<typeof orderConditionsSchema>;

const KNOBS = serviceSettingsSchema.keyof().options;

/** The preset whose knobs equal these for every service, if any. */
export function matchingPreset(services: Settings["services"]): PresetName | null {
  const names = Object.keys(PRESETS) as PresetName[];
  return (
    names.find((name) =>
      SERVICE_NAMES.every((service) =>
        KNOBS.every((knob) => PRESETS[name].services[service][knob] === services[service][knob]),
      ),
    ) ?? null
  );
}

/** What an order records at checkout. */
export function conditionsOf(services: Settings["services"]): OrderConditions {
  return { preset: matchingPreset(services) ?? CUSTOM_CONDITIONS, services };
}

/** One string per set of knobs: equal knobs, equal keys (whatever order the JSON kept them in). */
export function conditionsKey(conditions: OrderConditions): string {
  return SERVICE_NAMES.map((service) =>
    KNOBS.map((knob) => String(conditions.services[service][knob])).join(","),
  ).join("|");
}

/** "Email outage", or "Custom knobs" for knobs that match no preset. */
export function conditionsLabel(conditions: OrderConditions): string {
  return conditions.preset === CUSTOM_CONDITIONS ? "Custom knobs" : PRESETS[conditions.preset].label;
}

const seconds = (ms: number) => (ms >= 1000 ? `${Number((ms / 1000).toFixed(2))} s` : `${ms} ms`);

function changesFrom(services: Settings["services"], base: Settings["services"]): string[] {
  return SERVICE_NAMES.flatMap((service) => {
    const now = services[service];
    const usual = base[service];
    const words: string[] = [];
    if (now.down && !usual.down) words.push("down");
    if (!now.down && usual.down) words.push("up");
    if (now.latencyMs !== usual.latencyMs || now.jitterMs !== usual.jitterMs) {
      words.push(
        now.jitterMs > 0 ? `${seconds(now.latencyMs)} ± ${seconds(now.jitterMs)}` : seconds(now.latencyMs),
      );
    }
    if (now.failureRate !== usual.failureRate)
      words.push(`${Math.round(now.failureRate * 100)} % of calls fail`);
    if (now.capacity !== usual.capacity) words.push(`${now.capacity} calls at once`);
    return words.length > 0 ? [`${SERVICES[service].title}: ${words.join(", ")}`] : [];
  });
}

/** The knobs in words, as the preset they are (nearest) to and how they differ from it: "Like
 * Realistic, except Email provider: down", "Like All fast, except Payment gateway: 300 ms". Realistic's
 * own knobs: nothing to say (empty). */
export function knobChanges(services: Settings["services"]): string[] {
  const preset = matchingPreset(services);
  if (preset === "all-fast") return ["Every service answers at once and none fails"];
  const names = Object.keys(PRESETS) as PresetName[];
  const nearest = preset
    ? { name: "realistic" as const, changes: changesFrom(services, REALISTIC_SETTINGS.services) }
    : names
        .map((name) => ({ name, changes: changesFrom(services, PRESETS[name].services) }))
        .reduce((best, next) => (next.changes.length < best.changes.length ? next : best));
  const [first, ...rest] = nearest.changes;
  return first ? [`Like ${PRESETS[nearest.name].label}, except ${first}`, ...rest] : [];
}
