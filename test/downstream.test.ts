// The simulated providers obey the shared knobs (outage, failure rate, latency, capacity across
// callers) and remember idempotency keys, answering a repeat with the first answer.
import { randomUUID } from "node:crypto";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { updateSettings } from "../server/downstream/settings";
import { callDownstream, simulateCall } from "../server/downstream/simulate";
import { closeConnections, downstreamCalls, makeServicesFast } from "./helpers";

beforeEach(makeServicesFast);
afterAll(closeConnections);

describe("simulated downstream services", () => {
  it("fail at once when down, and fail as often as their failure rate says", async () => {
    await updateSettings({ services: { shipping: { down: true } } });
    await expect(simulateCall("shipping")).rejects.toThrow("Shipping carrier is down");
    await updateSettings({ services: { shipping: { down: false, failureRate: 1 } } });
    await expect(simulateCall("shipping")).rejects.toThrow("Shipping carrier returned an error");
    await updateSettings({ services: { shipping: { failureRate: 0 } } });
    await expect(simulateCall("shipping")).resolves.toBeUndefined();
  });

  it("serve no more calls at once than their capacity, queueing the rest", async () => {
    await updateSettings({ services: { analytics: { latencyMs: 200, capacity: 2 } } });
    const started = performance.now();
    await Promise.all(Array.from({ length: 6 }, () => simulateCall("analytics")));
    // Six calls, two at a time, 200 ms each: at least three rounds.
    expect(performance.now() - started).toBeGreaterThanOrEqual(600);
  });

  it("answer a repeated idempotency key with the first answer and do the work once", async () => {
    const key = randomUUID();
    const first = await callDownstream({
      service: "email",
      operation: "send",
      idempotencyKey: key,
      perform: () => ({ attempt: 1 }),
    });
    const again = await Promise.all(
      [2, 3, 4].map((attempt) =>
        callDownstream({
          service: "email",
          operation: "send",
          idempotencyKey: key,
          perform: () => ({ attempt }),
        }),
      ),
    );
    expect(first).toEqual({ attempt: 1 });
    expect(again).toEqual([{ attempt: 1 }, { attempt: 1 }, { attempt: 1 }]);
    expect(await downstreamCalls("email", "send", key)).toBe(1);
  });
});
