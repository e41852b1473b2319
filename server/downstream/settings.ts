// The fault knobs, kept in Redis so every web and worker process obeys the same settings at once.
// Read on every downstream call, so each process keeps a copy that is current by construction: a
// writer stores the new text and publishes it in one MULTI, every process listens on that channel and
// takes the text it is sent. The copy is trusted only while the listening connection has been up since
// the last read of the key (a message published while it was down is lost, so the key is read again).
// If Redis is unreachable, the last settings this process saw keep applying at once (no wait for a
// reconnect): an outage of the knob store must not stop or slow a checkout. Changing them waits for
// Redis as any other write does.
import {
  mergeSettings,
  REALISTIC_SETTINGS,
  type Settings,
  type SettingsPatch,
  settingsSchema,
} from "../contract";
import { failFast, type RedisClient, redis, redisKey, unavailable } from "../redis";

let lastSeen: Settings = REALISTIC_SETTINGS;
/** The stored text lastSeen was parsed from: unchanged text is not parsed again. */
let lastText: string | null = null;

/** The connection this process listens for changes on, once it has confirmed its subscription. */
let listener: RedisClient | null = null;
/** Bumped whenever the listener may have missed a message (it closed), and when it subscribes. */
let epoch = 0;
/** The epoch in which the subscription was last confirmed; null while it is not. */
let subscribedIn: number | null = null;
/** The epoch in which the key was read after the subscription was confirmed: lastSeen is current. */
let readIn: number | null = null;

function settingsKey(): string {
  return redisKey("settings");
}

function changesChannel(): string {
  return redisKey("settings-changed");
}

function remember(text: string | null): void {
  if (text !== null && text === lastText) return;
  const parsed = text ? settingsSchema.safeParse(JSON.parse(text)) : null;
  lastSeen = parsed?.success ? parsed.data : REALISTIC_SETTINGS;
  lastText = parsed?.success ? text : null;
}

/** Listens for changes on the shared subscriber connection, once per connection. */
function listen(): void {
  const subscriber = redis("sub");
  if (listener === subscriber) return;
  listener = subscriber;
  const subscribe = () => {
    const attempt = ++epoch;
    subscriber
      .subscribe(changesChannel())
      .then(() => {
        if (epoch === attempt) subscribedIn = attempt;
      })
      .catch(() => {});
  };
  subscriber.on("message", (channel: string, text: string) => {
    if (channel === changesChannel()) remember(text);
  });
  const missedSome = () => {
    epoch++;
    subscribedIn = null;
  };
  subscriber.on("close", missedSome);
  // On a Redis Cluster the client listens on one node; when that node leaves, it moves the subscription
  // to another, and what was published in between is lost: subscribe again (confirming it), then read.
  subscriber.on("-node", () => {
    missedSome();
    subscribe();
  });
  // ioredis subscribes again by itself after a reconnect; confirming it here tells us when.
  subscriber.on("ready", subscribe);
  if (subscriber.status === "ready") subscribe();
}

function isCurrent(): boolean {
  return readIn !== null && readIn === subscribedIn && readIn === epoch && !unavailable(redis("sub"));
}

export async function getSettings(): Promise<Settings> {
  listen();
  if (isCurrent()) return lastSeen;
  const subscribedBefore = subscribedIn;
  try {
    remember(await failFast().get(settingsKey()));
    // Current from now on only if the subscription was confirmed before the read and held since.
    if (subscribedBefore !== null && subscribedBefore === subscribedIn) readIn = subscribedBefore;
  } catch {
    // Redis down: keep lastSeen.
  }
  return lastSeen;
}

async function store(settings: Settings): Promise<Settings> {
  const text = JSON.stringify(settings);
  // One MULTI: no process can read the new text and then receive an older one.
  await redis("command").multi().set(settingsKey(), text).publish(changesChannel(), text).exec();
  remember(text);
  return lastSeen;
}

export async function updateSettings(patch: SettingsPatch): Promise<Settings> {
  // Parsed as a whole, as replaceSettings does: stored out of range, every reader would fall back to
  // the realistic knobs without a word (see remember).
  return store(settingsSchema.parse(mergeSettings(await getSettings(), patch)));
}

export async function replaceSettings(settings: Settings): Promise<Settings> {
  return store(settingsSchema.parse(settings));
}
