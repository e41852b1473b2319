// Fault knobs of the simulated downstream services, shared by every process through Redis.
import { z } from "zod";
import { checkoutModeSchema } from "./modes";
import { SERVICE_NAMES, type ServiceName, SIDE_EFFECT_STEPS, type SideEffectStep } from "./steps";

/** Each simulated service's names for people, spelled once: `label` names its row of knobs, `title`
 * names it in a sentence ("Payment gateway is down"). */
export const SERVICES = {
  inventory: { label: "Inventory", title: "Inventory service" },
  payment: { label: "Payment", title: "Payment gateway" },
  fraud: { label: "Fraud", title: "Fraud screening service" },
  email: { label: "Email", title: "Email provider" },
  analytics: { label: "Analytics", title: "Analytics service" },
  shipping: { label: "Shipping", title: "Shipping carrier" },
} as const satisfies Record<ServiceName, { label: string; title: string }>;

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

/** Most request slots the knob offers: far more than any experiment on one machine needs. */
export const MAX_REQUEST_SLOTS = 1000;
/** How long a request waits in line for a free request slot before it is refused (503). */
export const REQUEST_SLOT_WAIT_MS = 5_000;
export const MAX_CONSUMERS = 1000;

const consumerCount = z.number().int().min(1).max(MAX_CONSUMERS).nullable();
const consumersShape = Object.fromEntries(SIDE_EFFECT_STEPS.map((step) => [step, consumerCount])) as Record<
  SideEffectStep,
  typeof consumerCount
>;
// Settings stored before a queue existed read as null for it (the process's own concurrency).
const storedConsumerCount = consumerCount.default(null);
const storedConsumersShape = Object.fromEntries(
  SIDE_EFFECT_STEPS.map((step) => [step, storedConsumerCount]),
) as Record<SideEffectStep, typeof storedConsumerCount>;

/** The shop's own capacity (the services above are its dependencies): the Rush hour experiments' knobs. */
export const shopCapacitySchema = z.object({
  /** Requests the web process serves at once, like the thread pool of a thread-per-request server;
   * the next ones wait up to REQUEST_SLOT_WAIT_MS. 0: no limit (Node's own way: one thread, any number
   * of requests waiting on I/O). The developer tools never take a slot, so they can switch it off. */
  requestSlots: z.number().int().min(0).max(MAX_REQUEST_SLOTS),
  /** Jobs each worker process runs at once from each queue; null: its WORKER_CONCURRENCY. */
  consumers: z.object(storedConsumersShape),
});
export type ShopCapacity = z.infer<typeof shopCapacitySchema>;

export const DEFAULT_SHOP_CAPACITY: ShopCapacity = {
  requestSlots: 0,
  consumers: Object.fromEntries(SIDE_EFFECT_STEPS.map((step) => [step, null])) as Record<
    SideEffectStep,
    number | null
  >,
};

export const settingsSchema = z.object({
  defaultMode: checkoutModeSchema,
  services: z.object(servicesShape),
  // Settings stored before these knobs existed read as the defaults.
  shop: shopCapacitySchema.default(DEFAULT_SHOP_CAPACITY),
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
    shop: z
      .object({
        requestSlots: shopCapacitySchema.shape.requestSlots,
        consumers: z.object(consumersShape).partial().strict(),
      })
      .partial()
      .strict(),
  })
  .partial()
  .strict();
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

/** A service that answers in about `latencyMs`, never fails, and is up. */
export function healthyService(latencyMs: number, jitterMs: number, capacity = 50): ServiceSettings {
  return { latencyMs, jitterMs, failureRate: 0, down: false, capacity };
}

/** Realistic enough that the difference between the modes is obvious to the eye. */
export const REALISTIC_SETTINGS: Settings = {
  defaultMode: "async",
  services: {
    inventory: healthyService(40, 10),
    payment: healthyService(300, 80),
    fraud: healthyService(800, 200),
    email: healthyService(1200, 300),
    analytics: healthyService(200, 50),
    shipping: healthyService(1500, 300),
  },
  shop: DEFAULT_SHOP_CAPACITY,
};

export function mergeSettings(current: Settings, patch: SettingsPatch): Settings {
  const services = { ...current.services };
  for (const name of SERVICE_NAMES) {
    services[name] = { ...services[name], ...patch.services?.[name] };
  }
  return {
    defaultMode: patch.defaultMode ?? current.defaultMode,
    services,
    shop: mergeShopCapacity(current.shop, patch.shop),
  };
}

export function mergeShopCapacity(current: ShopCapacity, patch: SettingsPatch["shop"]): ShopCapacity {
  return {
    requestSlots: patch?.requestSlots ?? current.requestSlots,
    consumers: { ...current.consumers, ...patch?.consumers },
  };
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
