// Every process keeps a copy of the knobs that follows the writers (they publish the new text), so a
// downstream call costs no Redis round trip for them, and yet a change made by another process applies
// at once; a copy that may have missed a change (its listening connection dropped) is read again.
// Real Redis, a second process for the writer; GETs counted with MONITOR on this file's own namespace.
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { config } from "../server/config";
import { REALISTIC_SETTINGS } from "../server/contract";
import { capacityKey } from "../server/downstream/capacity";
import { getSettings, updateSettings } from "../server/downstream/settings";
import { simulateCall } from "../server/downstream/simulate";
import { closeRedis, redis, redisKey } from "../server/redis";
import { commandsWhile } from "./monitor";

afterAll(closeRedis);

const root = path.resolve(import.meta.dirname, "..");

/** The commands sent on `key` (first argument, or a script's key) while `work` runs. */
async function commandsOn(key: string, work: () => Promise<unknown>): Promise<string[]> {
  const commands = await commandsWhile(config.REDIS_URL, redis("command"), work);
  return commands.filter((args) => args.includes(key)).map(([command]) => command ?? "");
}

/** Changes the knobs from another process, as the web process does for a worker. */
async function updateFromAnotherProcess(latencyMs: number): Promise<void> {
  const script = `import { updateSettings } from "./server/downstream/settings.ts";
import { closeRedis } from "./server/redis.ts";
await updateSettings({ services: { email: { latencyMs: ${latencyMs} } } });
await closeRedis();`;
  await promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: root,
    env: process.env,
  });
}

async function untilListening(): Promise<void> {
  // The first read subscribes; a copy is trusted once the subscription is confirmed and read after.
  for (let i = 0; i < 100; i++) {
    await getSettings();
    const gets = await commandsOn(redisKey("settings"), () => getSettings());
    if (gets.length === 0) return;
  }
  throw new Error("the settings copy never became current");
}

describe("the knobs each process follows", () => {
  it("cost no Redis command per read once followed, and a change from another process applies at once", async () => {
    await updateSettings({ services: { email: { latencyMs: 0, jitterMs: 0 } } });
    await untilListening();
    const reads = await commandsOn(redisKey("settings"), async () => {
      for (let i = 0; i < 20; i++) await getSettings();
    });
    expect(reads).toEqual([]);

    await updateFromAnotherProcess(777);
    expect((await getSettings()).services.email.latencyMs).toBe(777);
  });

  it("are read again after the listening connection dropped (a change it could have missed)", async () => {
    await untilListening();
    redis("sub").disconnect(true);
    // Written while nobody listened, without the message a writer sends: only a new read can see it.
    await redis("command").set(
      redisKey("settings"),
      JSON.stringify({
        ...REALISTIC_SETTINGS,
        services: {
          ...REALISTIC_SETTINGS.services,
          email: { ...REALISTIC_SETTINGS.services.email, latencyMs: 4321 },
        },
      }),
    );
    await expect.poll(async () => (await getSettings()).services.email.latencyMs).toBe(4321);
    // Followed again: ioredis' own re-subscription after the reconnect has its answer too (it is sent
    // before ours, on the same connection), so closing the connection later leaves no command unanswered
    // (its promise, which nobody holds, would reject: "Connection is closed").
    const subscriber = redis("sub");
    if (subscriber.status !== "ready") await new Promise((resolve) => subscriber.once("ready", resolve));
    await untilListening();
  });

  it("let a call that takes no time skip the provider's capacity (no slot taken, nothing to give back)", async () => {
    await updateSettings({ services: { email: { latencyMs: 0, jitterMs: 0, capacity: 1 } } });
    const scripts = await commandsOn(capacityKey("email"), () =>
      Promise.all(Array.from({ length: 5 }, () => simulateCall("email"))),
    );
    expect(scripts).toEqual([]);
    await updateSettings({ services: { email: { latencyMs: 50 } } });
    const held = await commandsOn(capacityKey("email"), () => simulateCall("email"));
    expect(held.length).toBeGreaterThanOrEqual(2);
  });
});
