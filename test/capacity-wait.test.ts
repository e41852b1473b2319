// A rate-limited provider's waiting callers are woken when a slot is given back, instead of each asking
// Redis again every few milliseconds: a hundred waiting checkouts must not become thousands of Redis
// commands a second. Counted with Redis' MONITOR, on a key namespace of this file's own.
import { spawn } from "node:child_process";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { config } from "../server/config";
import { capacityKey } from "../server/downstream/capacity";
import { updateSettings } from "../server/downstream/settings";
import { simulateCall } from "../server/downstream/simulate";
import { redis } from "../server/redis";
import { closeConnections, makeServicesFast } from "./helpers";
import { commandsWhile } from "./monitor";

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

describe("waiting for a provider's capacity", () => {
  it("wakes a waiter as soon as a slot is released, with a few Redis commands per call", async () => {
    await updateSettings({ services: { email: { latencyMs: 300, capacity: 2 } } });
    const calls = 12;
    let elapsed = 0;
    const commands = await commandsDuring("email", async () => {
      const started = performance.now();
      await Promise.all(Array.from({ length: calls }, () => simulateCall("email")));
      elapsed = performance.now() - started;
    });
    // Twelve calls, two at a time, 300 ms each: six rounds, each starting when the last one ends.
    expect(elapsed).toBeGreaterThanOrEqual(6 * 300);
    expect(elapsed).toBeLessThan(6 * 300 + 700);
    // Take a slot and give it back (which tells the waiters): about two per call, plus a try for the
    // first waiter after each release; not one every 15 ms per waiter.
    expect(commands).toBeLessThanOrEqual(calls * 4);
  });

  it("frees the slot of a caller that died mid-call soon after its call should have ended", async () => {
    await updateSettings({ services: { email: { latencyMs: 1000, jitterMs: 0, capacity: 1 } } });
    // Another process takes the only slot and is killed mid-call: it will never give the slot back.
    const holder = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `import { simulateCall } from "./server/downstream/simulate.ts";
console.log("calling"); await simulateCall("email");`,
      ],
      { env: process.env, stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve) => holder.stdout.once("data", () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 300));
    holder.kill("SIGKILL");
    const started = performance.now();
    await simulateCall("email");
    // The dead caller's slot lapses about 2 s after its 1 s call should have ended; before, it was held
    // for a minute, and every caller of a provider with capacity 1 waited that long.
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("lets waiters in soon after the capacity is raised, without a release to wake them", async () => {
    await updateSettings({ services: { email: { latencyMs: 2000, capacity: 1 } } });
    const started = performance.now();
    const calls = Promise.all(Array.from({ length: 3 }, () => simulateCall("email")));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await updateSettings({ services: { email: { capacity: 3 } } });
    await calls;
    // One at a time would take 6 s; the two waiters get in within about a second of the change.
    expect(performance.now() - started).toBeLessThan(2000 + 1500);
  });
});
