// Fault knobs of the simulated downstream services, shared by every process through Redis.
import { z } from "zod";
import { checkoutModeSchema } from "./orders";
import { SERVICE_NAMES, type ServiceName } from "./steps";

/** Upper bound of the latency and jitter knobs: one call never takes longer than twice this. */
export const MAX_LATENCY_MS = 10_000;

export const serviceSettingsSchema = z.object({
  /** Typical time one call takes. */
  latencyMs: z.number().int().min(0).max(MAX_LATENCY_MS),
  /** Each call takes latencyMs ± a random amount up to this. */
  jitterMs: z.number().int().min(0).max(MAX_LATENCY_MS),
  /** Share of calls that fail (0 to 1). For payment, a failure is a decline. */
  failureRate: z.number().min(0).max(1),
  /** Hard outage: every call fails at once. */
  down: z.boolean(),
  /** Calls served at once; the rest wait their turn, like a rate-limited third-party API. */
  capacity: z.number().int().min(1).max(1000),
});
export type ServiceSettings = z.infer<typeof serviceSettingsSchema>;

const servicesShape = Object.fromEntries(
  SERVICE_NAMES.map((name) => [name, serviceSettingsSchema]),
) as Record<ServiceName, typeof serviceSettingsSchema>;

export const settingsSchema = z.object({
  defaultMode: checkoutModeSchema,
  services: z.object(servicesShape),
});
export type Settings = z.infer<typeof settingsSchema>;

/** What dev.updateSettings accepts: any part of Settings, merged into the current one. */
export const settingsPatchSchema = z
  .object({
    defaultMode: checkoutModeSchema,
    services: z
      .object(
        Object.fromEntries(SERVICE_NAMES.map((name) => [name, serviceSettingsSchema.partial()])) as Record<
          ServiceName,
          ReturnType<typeof serviceSettingsSchema.partial>
        >,
      )
      .partial()
      .strict(),
  })
  .partial()
  .strict();
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

function service(latencyMs: number, jitterMs: number, capacity = 50): ServiceSettings {
  return { latencyMs, jitterMs, failureRate: 0, down: false, capacity };
}

/** Realistic enough that the difference between the modes is obvious to the eye. */
export const REALISTIC_SETTINGS: Settings = {
  defaultMode: "async",
  services: {
    inventory: service(40, 10),
    payment: service(300, 80),
    fraud: service(800, 200),
    email: service(1200, 300),
    analytics: service(200, 50),
    shipping: service(1500, 300),
  },
};

export function mergeSettings(current: Settings, patch: SettingsPatch): Settings {
  const services = { ...current.services };
  for (const name of SERVICE_NAMES) {
    services[name] = { ...services[name], ...patch.services?.[name] };
  }
  return { defaultMode: patch.defaultMode ?? current.defaultMode, services };
}

function withServices(changes: Partial<Record<ServiceName, Partial<ServiceSettings>>>): Settings["services"] {
  const services = { ...REALISTIC_SETTINGS.services };
  for (const name of SERVICE_NAMES) services[name] = { ...services[name], ...changes[name] };
  return services;
}

/** One-click scenarios for the developer console: each replaces every service's knobs. */
export const PRESETS = {
  "all-fast": {
    label: "All fast",
    explains:
      "Every dependency answers at once. The modes look alike: waiting costs nothing when nothing is slow.",
    services: Object.fromEntries(
      SERVICE_NAMES.map((name) => [
        name,
        { latencyMs: 0, jitterMs: 0, failureRate: 0, down: false, capacity: 50 },
      ]),
    ) as Settings["services"],
  },
  realistic: {
    label: "Realistic",
    explains: "Typical third-party latencies. Sync stacks them up; async answers after stock and payment.",
    services: REALISTIC_SETTINGS.services,
  },
  "email-outage": {
    label: "Email outage",
    explains:
      "The email provider is down. Sync checkouts fail with it (temporal coupling); async ones queue the receipt.",
    services: withServices({ email: { down: true } }),
  },
  "slow-payment": {
    label: "Slow payment",
    explains:
      "Payment sits on the critical path, so every mode waits for it. Async is no cure for what you must wait for.",
    services: withServices({ payment: { latencyMs: 2500, jitterMs: 500 } }),
  },
  "flaky-fraud": {
    label: "Flaky fraud screening",
    explains:
      "Half the fraud calls fail. Watch retries with backoff, attempt counts and, sometimes, the dead-letter set.",
    services: withServices({ fraud: { failureRate: 0.5 } }),
  },
  "rate-limited-email": {
    label: "Rate-limited email",
    explains:
      "The email provider serves 2 calls at once. Under load, async builds a backlog and drains it; sync makes shoppers queue.",
    services: withServices({ email: { capacity: 2 } }),
  },
} as const satisfies Record<string, { label: string; explains: string; services: Settings["services"] }>;

export type PresetName = keyof typeof PRESETS;
export const presetNameSchema = z.enum(Object.keys(PRESETS) as [PresetName, ...PresetName[]]);
