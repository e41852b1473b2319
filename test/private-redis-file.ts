// For a test file on a Redis of its own, imported after REDIS_URL points there (server modules read it
// once): the worker side runs for the whole file; at its end `restore` gives Redis back if a failed test
// left it away (closing the workers waits for Redis), every connection closes, and `teardown` stops what
// the file started.
import { afterAll, beforeAll } from "vitest";
import { closeDatabase } from "../server/db";
import { closeQueues } from "../server/queues";
import { closeRedis } from "../server/redis";
import { makeServicesFast, startWorkerSide } from "./helpers";
import { atMost } from "./processes";

export function workerSideForTheFile(restore: () => unknown, teardown: () => Promise<unknown>): void {
  let workerSide: { stop: () => Promise<void> } | undefined;
  beforeAll(async () => {
    await makeServicesFast();
    workerSide = startWorkerSide();
  });
  afterAll(async () => {
    const close = async () => {
      await restore();
      await workerSide?.stop();
      await closeQueues();
      await closeRedis();
      await closeDatabase();
    };
    await atMost(30_000, close());
    await teardown();
  });
}
