// What the developer pages (console, mailbox, comparison view) share: the dev API's answer types,
// which preset the knobs currently match, and the two timings that tell sync from async apart.
import type { inferRouterOutputs } from "@trpc/server";
import {
  type OrderView,
  PRESETS,
  type PresetName,
  SERVICE_NAMES,
  type ServiceName,
  type Settings,
  serviceSettingsSchema,
} from "@/server/contract";
import type { AppRouter } from "@/server/trpc/root";
import { msBetween } from "./format";

type Outputs = inferRouterOutputs<AppRouter>;
export type QueueSummary = Outputs["dev"]["queues"][number];
export type DeadLetter = Outputs["dev"]["deadLetters"][number];
export type MailboxEmail = Outputs["dev"]["mailbox"][number];

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export const SERVICE_LABELS: Record<ServiceName, string> = {
  payment: "Payment",
  inventory: "Inventory",
  fraud: "Fraud",
  email: "Email",
  analytics: "Analytics",
  shipping: "Shipping",
};

const KNOBS = serviceSettingsSchema.keyof().options;

/** The preset whose knobs equal the current ones for every service, if any. */
export function matchingPreset(services: Settings["services"]): PresetName | null {
  return (
    PRESET_NAMES.find((name) =>
      SERVICE_NAMES.every((service) =>
        KNOBS.every((knob) => PRESETS[name].services[service][knob] === services[service][knob]),
      ),
    ) ?? null
  );
}

/** How long the Purchase request kept the shopper waiting (null: never confirmed). */
export function timeToConfirmation(order: OrderView): number | null {
  return order.confirmedAt ? msBetween(order.createdAt, order.confirmedAt) : null;
}

/** How long until the last step finished (null: still in progress). */
export function timeToDone(order: OrderView): number | null {
  return order.settledAt ? msBetween(order.createdAt, order.settledAt) : null;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? 0;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? upper) + upper) / 2;
}

const clock = new Intl.DateTimeFormat("en-US", { hour: "numeric", minute: "2-digit", second: "2-digit" });
const day = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric" });

/** "3:04:05 PM" today, "Mar 2, 3:04:05 PM" on another day. */
export function formatClock(iso: string, now = Date.now()): string {
  const date = new Date(iso);
  const sameDay = new Date(now).toDateString() === date.toDateString();
  return sameDay ? clock.format(date) : `${day.format(date)}, ${clock.format(date)}`;
}

const TICK_STEPS_MS = [100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 15_000, 30_000, 60_000];

/** Round axis ticks from 0 to at least `spanMs`, at most `maxTicks` intervals. */
export function niceTicks(spanMs: number, maxTicks = 6): number[] {
  const step =
    TICK_STEPS_MS.find((candidate) => spanMs / candidate <= maxTicks) ??
    Math.ceil(spanMs / maxTicks / 60_000) * 60_000;
  const count = Math.max(1, Math.ceil(spanMs / step));
  return Array.from({ length: count + 1 }, (_, index) => index * step);
}
