// A worker asked to stop while Redis is away still stops: what it would wait for (its consumers'
// close, which talks to Redis) cannot happen until Redis is back, and a supervisor restarting a fleet
// during an outage must not wait for that. Its jobs in flight are BullMQ's to redeliver (their locks
// expire), and nothing of an order lives only in Redis (the outbox and the reconciler).
import { afterAll, expect, it, vi } from "vitest";
import { exitOf, privateRedis, startWorkerProcess } from "./processes";

// A Redis and a database of this file's own: the worker's relay must not take other files' outbox rows
// into a Redis that is about to die.
const redisServer = await privateRedis();
afterAll(() => redisServer.kill());

it("exits on SIGTERM while Redis is unreachable", async () => {
  const worker = startWorkerProcess({ LOG_FORMAT: "json", LOG_LEVEL: "info" }, { stdout: "pipe" });
  let output = "";
  const started = new Promise<void>((resolve) => {
    worker.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.includes("consumers started")) resolve();
    });
  });
  await started;
  await redisServer.kill();
  // The worker noticed (its connections close at once, and it logs the outage once) and reconnects.
  await vi.waitFor(() => expect(output).toContain("Redis connection lost"), { timeout: 10_000 });

  const askedAt = Date.now();
  worker.kill("SIGTERM");
  const { code, signal } = await exitOf(worker);
  console.info(`worker exited ${Date.now() - askedAt} ms after SIGTERM with Redis gone`);
  expect(signal).toBeNull();
  expect(code).toBe(0);
  // It went because Redis was away, not because its shutdown grace (30 s) ran out (a test timeout
  // of twice that lets a worker that waited out the grace exit, and fail here). Its last lines may
  // arrive after its exit.
  await vi.waitFor(() => expect(output).toContain("Redis is unreachable; stopping without it"));
}, 60_000);
