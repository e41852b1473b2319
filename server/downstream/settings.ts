// The fault knobs, kept in Redis so every web and worker process obeys the same settings at once.
// Read on every call (a Redis round trip is ~30 µs). If Redis is unreachable, the last settings this
// process saw keep applying at once (no wait for a reconnect): an outage of the knob store must not
// stop or slow a checkout. Changing them waits for Redis as any other write does.
import {
  mergeSettings,
  REALISTIC_SETTINGS,
  type Settings,
  type SettingsPatch,
  settingsSchema,
} from "../contract";
import { failFast, redis, redisKey } from "../redis";

let lastSeen: Settings = REALISTIC_SETTINGS;
/** The stored text lastSeen was parsed from: unchanged text is not parsed again (every call reads it). */
let lastText: string | null = null;

function settingsKey(): string {
  return redisKey("settings");
}

export async function getSettings(): Promise<Settings> {
  try {
    const stored = await failFast().get(settingsKey());
    if (stored !== null && stored === lastText) return lastSeen;
    const parsed = stored ? settingsSchema.safeParse(JSON.parse(stored)) : null;
    lastSeen = parsed?.success ? parsed.data : REALISTIC_SETTINGS;
    lastText = parsed?.success ? stored : null;
  } catch {
    // Redis down: keep lastSeen.
  }
  return lastSeen;
}

export async function updateSettings(patch: SettingsPatch): Promise<Settings> {
  const next = mergeSettings(await getSettings(), patch);
  await redis("command").set(settingsKey(), JSON.stringify(next));
  lastSeen = next;
  lastText = null;
  return next;
}

export async function replaceSettings(settings: Settings): Promise<Settings> {
  await redis("command").set(settingsKey(), JSON.stringify(settingsSchema.parse(settings)));
  lastSeen = settings;
  lastText = null;
  return settings;
}
