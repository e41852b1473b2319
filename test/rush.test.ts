// The Rush hour lab's runs (dev.rush.*): the web process starts the real load process against itself,
// samples every process's /metrics each second while it runs, and saves the run. The samples are the
// shop's own numbers: the orders they count add up to what the load process placed. One run at a
// time; a stopped run is saved as stopped; bad settings start nothing.
// The web routes (API, socket.io, /metrics) are served on PORT, as the web process serves them, beside
// a real worker process.
import getPort from "get-port";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { exitOf, startWorkerProcess } from "./processes";

// A free port for PORT, before the config is read: the load process is aimed at it.
process.env.PORT = String(await getPort());

const { config } = await import("../server/config");
const { prisma } = await import("../server/db");
const { rushState, workerProcesses } = await import("../server/rush/manager");
const { callerFor, closeConnections, createProduct, makeServicesFast, serveWebRoutes } = await import(
  "./helpers"
);

serveWebRoutes({ port: config.PORT, realtime: true });
const worker = startWorkerProcess();
const dev = callerFor().dev.rush;

beforeAll(async () => {
  await makeServicesFast();
  await createProduct({ stock: 10_000 });
  // The worker lists itself in Redis once it is up: a run's settings count it.
  await vi.waitFor(async () => expect(await workerProcesses()).toBeGreaterThan(0), {
    timeout: 20_000,
    interval: 100,
  });
});
afterAll(async () => {
  worker.kill("SIGTERM");
  await exitOf(worker);
  await closeConnections();
});

async function ended() {
  await expect.poll(() => rushState().busy, { timeout: 40_000, interval: 200 }).toBe(false);
  const run = rushState().run;
  if (!run) throw new Error("no run");
  return run;
}

describe("a run started from the console", () => {
  it("drives the shop with the load process, samples its metrics each second, and saves the run", async () => {
    await dev.start({ load: { shoppers: 3, pause: 100, duration: 3_000, mode: "async" } });
    expect(rushState()).toMatchObject({ busy: true, run: { status: "running" } });
    await expect(dev.start({ load: { shoppers: 1, duration: 1_000 } })).rejects.toMatchObject({
      code: "CONFLICT",
    });

    const run = await ended();
    expect(run.status).toBe("finished");
    expect(run.label).toBe("Async: 3 shoppers, pause 100ms, for 3s");
    const placed = run.summary?.placed ?? 0;
    expect(placed).toBeGreaterThan(0);
    expect(run.summary?.answered).toBe(placed); // knobs at 0: no errors
    // Orders per second × the second's length, over the run: the web process's own count of placed
    // checkouts. It is every order of the run in the database: the ones the load process saw placed,
    // and any it stopped waiting for when its time was up (abandoned, yet placed by the shop).
    let counted = 0;
    run.samples.forEach((sample, index) => {
      counted += sample.checkoutsPerSecond * (sample.t - (run.samples[index - 1]?.t ?? 0));
    });
    const tagged = await prisma.order.count({
      where: { customerEmail: { endsWith: `.${run.summary?.runId}@load.example` } },
    });
    expect(Math.round(counted)).toBe(tagged);
    expect(tagged).toBeGreaterThanOrEqual(placed);
    expect(tagged).toBeLessThanOrEqual(placed + (run.summary?.abandoned ?? 0));
    expect(run.samples.length).toBeGreaterThanOrEqual(3);
    expect(run.samples.some((sample) => sample.answerMs !== null && sample.catalogMs !== null)).toBe(true);
    expect(run.settings.workerProcesses).toBeGreaterThanOrEqual(1);

    const [saved] = await dev.compare({ runIds: [run.id] });
    expect(saved).toEqual(run);
    expect((await dev.runs()).map((listed) => listed.id)).toContain(run.id);
  });

  it("takes each second's percentiles from the orders it placed: every one counted, exact", async () => {
    await dev.start({ load: { burst: 12, duration: 20_000, mode: "async" } });
    const run = await ended();
    expect(run.status).toBe("finished");
    const placed = run.summary?.placed ?? 0;
    expect(placed).toBe(12);
    const seconds = run.samples.flatMap((sample) => (sample.measured ? [sample.measured] : []));
    expect(seconds).toHaveLength(run.samples.length);
    const count = (pick: (second: (typeof seconds)[number]) => { count: number } | null) =>
      seconds.reduce((sum, second) => sum + (pick(second)?.count ?? 0), 0);
    // Every placed order's answer and every catalog call fell into one of the run's seconds; so did
    // the time to done of every order the load process followed (all of a burst this size).
    expect(count((second) => second.answerMs)).toBe(placed);
    expect(count((second) => second.catalogMs)).toBe(run.summary?.catalogMs.calls);
    expect(count((second) => second.doneMs)).toBe(run.summary?.doneMs.measured);
    expect(run.summary?.doneMs.measured).toBe(placed);
    // Where all answers fell into one second, its median is the run's (nearest rank, same figures).
    const answered = seconds.filter((second) => second.answerMs !== null);
    if (answered.length === 1) expect(answered[0]?.answerMs?.p50).toBe(run.summary?.answerMs.p50);
    // Saved as it was shown.
    expect((await dev.compare({ runIds: [run.id] }))[0]?.samples).toEqual(run.samples);
  });

  it("stops a run on request and saves it as stopped", async () => {
    await dev.start({ load: { shoppers: 2, pause: 200, duration: 60_000 } });
    await expect.poll(() => rushState().run?.samples.length ?? 0, { timeout: 10_000 }).toBeGreaterThan(1);
    expect(await dev.stop()).toEqual({ stopped: true });
    const run = await ended();
    expect(run.status).toBe("stopped");
    expect(run.summary?.stoppedBy).toBe("signal");
    expect((await dev.compare({ runIds: [run.id] }))[0]?.status).toBe("stopped");
  });

  it("refuses bad settings before anything starts", async () => {
    const before = rushState().run?.id;
    await expect(dev.start({ load: { shoppers: -1 } })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(dev.start({ load: { shoppers: 2, burst: 10 } })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await expect(dev.start({ load: { duration: 3_600_000 } })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    // What the load process would refuse on its command line is refused here, before the restock.
    const shelf = await createProduct({ stock: 3 });
    for (const rate of [1e-9, 0.0000001, 0.01]) {
      await expect(dev.start({ load: { rate } }), `rate ${rate}`).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
    }
    await expect(dev.start({ load: { fraud: 1e-7 } })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect((await prisma.product.findUniqueOrThrow({ where: { id: shelf.id } })).stock).toBe(3);
    expect(rushState().run?.id).toBe(before);
    expect(await dev.stop()).toEqual({ stopped: false });
  });
});
