// A rate-limited provider's waiting callers are woken when a slot is given back, instead of each asking
// Redis again every few milliseconds: a hundred waiting checkouts must not become thousands of Redis
// commands a second. Counted with Redis' MONITOR, on a key namespace of this file's own.
import { spawn } from "node:child_process";
import { afterAll, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { config } from "../server/config";
import { MAX_LATENCY_MS } from "../server/contract";
import { capacityKey, SLOT_GRACE_MS } from "../server/downstream/capacity";
import { updateSettings } from "../server/downstream/settings";
import { simulateCall } from "../server/downstream/simulate";
import { onFaultPoint } from "../server/faults";
import { redis } from "../server/redis";
import { closeConnections, makeServicesFast } from "./helpers";
import { commandsWhile } from "./monitor";
import { exitOf } from "./processes";

beforeEach(makeServicesFast);
afterAll(closeConnections);

/** Runs `work` and counts the Redis commands sent for the service's capacity while it ran (the scripts
 * themselves, not the commands each runs inside Redis). */
async function commandsDuring(
  service: Parameters<typeof capacityKey>[0],
  work: () => Promise<unknown>,
): Promise<number> {
  const key = capacityKey(service);
  const commands = await commandsWhile(config.REDIS_URL, redis("command"), work);
  return commands.filter(
    ([command, ...args]) => (command === "eval" || command === "evalsha") && args.includes(key),
  ).length;
}

/** The slots of the service held now: their holders' tokens and when each lapses (ms since the epoch). */
async function slotsOf(
  service: Parameters<typeof capacityKey>[0],
): Promise<{ token: string; lapsesAt: number }[]> {
  const flat = await redis("command").zrange(capacityKey(service), "0", "-1", "WITHSCORES");
  return flat.flatMap((token, index) =>
    index % 2 === 0 ? [{ token, lapsesAt: Number(flat[index + 1]) }] : [],
  );
}

describe("waiting for a provider's capacity", () => {
  it("lets a waiter in when a slot is released, with a few Redis commands per call", async () => {
    await updateSettings({ services: { email: { latencyMs: 300, capacity: 2 } } });
    // The waiters' periodic recheck is held back for this test: only a release can let one in, so
    // every call ending proves the releases woke them (without that, each waits out its 30 s).
    let openRechecks = () => {};
    const rechecksHeld = new Promise<void>((resolve) => {
      openRechecks = resolve;
    });
    const removeHook = onFaultPoint("capacity:recheck", () => rechecksHeld);
    onTestFinished(() => {
      removeHook();
      openRechecks();
    });
    const calls = 12;
    let elapsed = 0;
    const commands = await commandsDuring("email", async () => {
      const started = performance.now();
      await Promise.all(Array.from({ length: calls }, () => simulateCall("email")));
      elapsed = performance.now() - started;
    });
    // Twelve calls, two at a time, 300 ms each: six rounds, each starting when the last one ends.
    expect(elapsed).toBeGreaterThanOrEqual(6 * 300);
    // Take a slot and give it back (which tells the waiters): about two per call, plus a try for the
    // first waiter after each release; not one every 15 ms per waiter.
    expect(commands).toBeLessThanOrEqual(calls * 4);
  });

  it("frees the slot of a caller that died mid-call soon after its call should have ended", async () => {
    const latencyMs = 1000;
    await updateSettings({ services: { email: { latencyMs, jitterMs: 0, capacity: 1 } } });
    // Another process takes the only slot and is killed mid-call: it will never give the slot back.
    const holder = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `import { simulateCall } from "./server/downstream/simulate.ts";
await simulateCall("email");`,
      ],
      { env: process.env, stdio: ["ignore", "inherit", "inherit"] },
    );
    await expect.poll(() => slotsOf("email"), { timeout: 20_000 }).toHaveLength(1);
    const [dead] = await slotsOf("email");
    // Recorded to lapse the grace after the call should have ended (it was taken before this reading),
    // not a minute later as before, when every caller of a provider of capacity 1 waited that long.
    expect(dead?.lapsesAt).toBeLessThanOrEqual(Date.now() + latencyMs + SLOT_GRACE_MS);
    holder.kill("SIGKILL");
    await exitOf(holder);

    await simulateCall("email");
    // The next caller got the slot once the dead one's had lapsed, not before, and holds none now.
    expect(Date.now()).toBeGreaterThanOrEqual(dead?.lapsesAt ?? Number.NaN);
    expect(await slotsOf("email")).toEqual([]);
  });

  it("lets waiters in after the capacity is raised, without a release to wake them", async () => {
    // Calls as long as the knob allows: no release comes while this test looks (it cuts them short).
    await updateSettings({ services: { email: { latencyMs: MAX_LATENCY_MS, jitterMs: 0, capacity: 1 } } });
    let rechecked = () => {};
    const waiterRechecked = new Promise<void>((resolve) => {
      rechecked = resolve;
    });
    onTestFinished(onFaultPoint("capacity:recheck", () => rechecked()));
    const stop = new AbortController();
    onTestFinished(() => stop.abort());
    const calls = Promise.allSettled(Array.from({ length: 3 }, () => simulateCall("email", stop.signal)));
    // One holds the slot; the first waiter in line has asked again, and found none free.
    await waiterRechecked;
    expect(await slotsOf("email")).toHaveLength(1);

    await updateSettings({ services: { email: { capacity: 3 } } });
    // All three hold a slot at once: the two waiters got in while the first call still held its own.
    await expect.poll(async () => (await slotsOf("email")).length, { timeout: 10_000 }).toBe(3);
    stop.abort();
    for (const call of await calls) {
      expect(call).toMatchObject({ status: "rejected", reason: { kind: "deadline" } });
    }
  });
});
