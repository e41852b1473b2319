// The consumers knob of the Rush hour experiments: each queue's concurrency in every worker process
// follows settings.shop.consumers, and falls back to WORKER_CONCURRENCY when the knob is cleared.
import { afterAll, expect, it } from "vitest";
import { config } from "../server/config";
import { queueName } from "../server/contract";
import { updateSettings } from "../server/downstream/settings";
import { startSideEffectWorkers } from "../workers/side-effects";
import { closeConnections, makeServicesFast } from "./helpers";

const consumers = startSideEffectWorkers();
afterAll(async () => {
  await consumers.stop();
  await closeConnections();
});

function concurrencyOf(queue: string): number | undefined {
  return consumers.workers.find((worker) => worker.name === queue)?.concurrency;
}

it("sets each queue's consumers in this process from the knob, and back to WORKER_CONCURRENCY", async () => {
  await makeServicesFast();
  await expect.poll(() => concurrencyOf(queueName("email"))).toBe(config.WORKER_CONCURRENCY);

  await updateSettings({ shop: { consumers: { email: 1, fraud: 7 } } });
  await expect.poll(() => concurrencyOf(queueName("email"))).toBe(1);
  expect(concurrencyOf(queueName("fraud"))).toBe(7);
  expect(concurrencyOf(queueName("analytics"))).toBe(config.WORKER_CONCURRENCY);

  await updateSettings({ shop: { consumers: { email: null, fraud: null } } });
  await expect.poll(() => concurrencyOf(queueName("email"))).toBe(config.WORKER_CONCURRENCY);
  expect(concurrencyOf(queueName("fraud"))).toBe(config.WORKER_CONCURRENCY);
});
