// /metrics on the real parts: this process serves the web routes (API, /metrics, /dev/jobs) as the web
// process does, a real worker process serves its own /metrics and lists itself in Redis, an async order
// goes through the HTTP API, and both scrapes (as Prometheus text, and as the JSON the web process sums
// them from) move with it exactly as they should.
// Also: bull-board under /dev/jobs lists every queue, and a second worker on a taken port says why.
import { networkInterfaces } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLANNED_SIDE_EFFECTS, SIDE_EFFECT_STEPS } from "../server/contract";
import { queueSummaries } from "../server/devtools/queues";
import { updateSettings } from "../server/downstream/settings";
import { startMetricsServer } from "../server/http/metrics-server";
import {
  histogramOf,
  METRICS_JSON,
  mergeProcesses,
  type ProcessMetrics,
  processMetricsSchema,
  seriesSum,
} from "../server/metrics/readings";
import { METRIC_NAMES } from "../server/metrics/registry";
import { scrapeAll } from "../server/metrics/scrape";
import { liveWorkers } from "../server/metrics/workers";
import { changeOrder } from "../server/orders/change";
import { allSideEffectQueues } from "../server/queues";
import {
  callerFor,
  closeConnections,
  createProduct,
  makeServicesFast,
  orderInput,
  readOrder,
  serveWebRoutes,
  waitForOrder,
} from "./helpers";
import { atMost, exitOf, startWorkerProcess } from "./processes";

const web = serveWebRoutes();
/** This machine's address on a network, if it has one (IPv4, for a plain URL). */
const networkAddress = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && !address.internal && address.family === "IPv4")?.address;
const worker = startWorkerProcess({ WORKER_METRICS_PORT: "0" });
let workerMetricsUrl = "";

beforeAll(async () => {
  await makeServicesFast();
  const listed = await waitForOrder(
    async () => {
      const url = (await liveWorkers()).find((presence) => presence.metricsUrl)?.metricsUrl ?? null;
      return { status: url ? "listed" : "not yet", url };
    },
    (found) => found.url !== null,
    30_000,
  );
  workerMetricsUrl = listed.url ?? "";
}, 60_000);

afterAll(async () => {
  worker.kill("SIGTERM");
  await exitOf(worker);
  await closeConnections();
});

/** A process's metrics as the web process reads a worker's: prom-client's JSON. */
async function scrape(url: string) {
  const response = await fetch(url, { headers: { accept: METRICS_JSON } });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  return processMetricsSchema.parse(await response.json());
}

/** A process's metrics as Prometheus reads them. */
async function scrapeText(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

const scrapeWeb = () => scrape(`${web.url()}/metrics`);
const scrapeWorker = () => scrape(workerMetricsUrl);
const scrapeBoth = async () => mergeProcesses([await scrapeWeb(), await scrapeWorker()]);

/** The figures an async order must move, read from the web's and the worker's scrapes summed. */
function figures(metrics: ProcessMetrics) {
  const steps = Object.fromEntries(
    SIDE_EFFECT_STEPS.map((step) => [
      step,
      histogramOf(metrics, METRIC_NAMES.stepDuration, { step, outcome: "succeeded" }).count,
    ]),
  );
  return {
    completed: seriesSum(metrics, METRIC_NAMES.orders, { mode: "async", status: "completed" }),
    done: histogramOf(metrics, METRIC_NAMES.orderDone, { mode: "async", status: "completed" }).count,
    answered: histogramOf(metrics, METRIC_NAMES.checkoutAnswer, { mode: "async", outcome: "placed" }).count,
    placeRequests: histogramOf(metrics, METRIC_NAMES.apiRequest, { procedure: "order.place" }).count,
    stepAttempts: histogramOf(metrics, METRIC_NAMES.stepDuration).count,
    steps,
    queueWaits: histogramOf(metrics, METRIC_NAMES.queueWait).count,
  };
}

describe("/metrics", () => {
  it("serves Prometheus text, or JSON to the web process, on the web process and on the worker, every family with HELP and TYPE", async () => {
    const [webText, workerText, webFamilies, workerFamilies] = await Promise.all([
      scrapeText(`${web.url()}/metrics`),
      scrapeText(workerMetricsUrl),
      scrapeWeb(),
      scrapeWorker(),
    ]);
    const described = (text: string, metrics: readonly { name: string; help: string }[], name: string) =>
      new RegExp(`^# HELP ${name} `, "m").test(text) &&
      new RegExp(`^# TYPE ${name} `, "m").test(text) &&
      Boolean(metrics.find((metric) => metric.name === name)?.help);
    for (const text of [webText, workerText]) {
      expect(text.split("\n").filter((line) => line !== "" && !line.startsWith("#")).length).toBeGreaterThan(
        20,
      );
    }
    for (const name of [
      METRIC_NAMES.checkoutAnswer,
      METRIC_NAMES.orderDone,
      METRIC_NAMES.orders,
      METRIC_NAMES.stepDuration,
      METRIC_NAMES.queueJobs,
      METRIC_NAMES.httpInFlight,
      METRIC_NAMES.apiRequest,
      METRIC_NAMES.requestSlotsInUse,
      METRIC_NAMES.requestSlotsLimit,
      METRIC_NAMES.requestsRefused,
      "process_cpu_seconds_total",
      "nodejs_eventloop_lag_seconds",
    ]) {
      expect(described(webText, webFamilies, name), name).toBe(true);
    }
    for (const name of [
      METRIC_NAMES.orderDone,
      METRIC_NAMES.stepDuration,
      METRIC_NAMES.stepRetries,
      METRIC_NAMES.deadLetters,
      METRIC_NAMES.queueWait,
      "process_resident_memory_bytes",
    ]) {
      expect(described(workerText, workerFamilies, name), name).toBe(true);
    }
    expect(seriesSum(webFamilies, METRIC_NAMES.requestSlotsLimit)).toBe(0);
    // Every queue and state has a series (what the panel charts), read from Redis at scrape time.
    for (const queue of SIDE_EFFECT_STEPS) {
      expect(
        webFamilies
          .find((metric) => metric.name === METRIC_NAMES.queueJobs)
          ?.values.filter((value) => value.labels.queue === queue),
      ).toHaveLength(5);
    }
  });

  it("moves with one async order placed over HTTP: answered, four steps, settled once", async () => {
    const before = figures(await scrapeBoth());
    const product = await createProduct({ stock: 3 });
    const response = await fetch(`${web.url()}/api/trpc/order.place`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(orderInput(product.id, { mode: "async" })),
    });
    expect(response.status).toBe(200);
    const placed = ((await response.json()) as { result: { data: { id: string } } }).result.data;
    await waitForOrder(readOrder(placed.id), (order) => order.status === "completed");

    // The worker observes the settling right after its statement: give the scrape a moment to see it.
    const after = await waitForOrder(
      async () => {
        const now = figures(await scrapeBoth());
        return { status: now.completed > before.completed ? "counted" : "not yet", now };
      },
      (current) => current.status === "counted",
      10_000,
    );
    const { now } = after;
    expect(now.completed - before.completed).toBe(1);
    expect(now.done - before.done).toBe(1);
    expect(now.answered - before.answered).toBe(1);
    expect(now.placeRequests - before.placeRequests).toBe(1);
    expect(now.stepAttempts - before.stepAttempts).toBe(4);
    // The planned ones ran once each; a completed order needs no compensation.
    for (const step of SIDE_EFFECT_STEPS)
      expect((now.steps[step] ?? 0) - (before.steps[step] ?? 0), step).toBe(
        PLANNED_SIDE_EFFECTS.includes(step) ? 1 : 0,
      );
    expect(now.queueWaits - before.queueWaits).toBe(4);

    // The panel's helper sees the same: this process and the worker, summed.
    const merged = await scrapeAll();
    expect(merged.processes).toEqual([
      { source: "web", ok: true },
      { source: workerMetricsUrl, ok: true },
    ]);
    expect(figures(merged.metrics).completed).toBe(now.completed);
  });

  it("counts a sync order where it settles (the web process), once, whatever changes it afterwards", async () => {
    const syncCompleted = async () =>
      seriesSum(await scrapeWeb(), METRIC_NAMES.orders, { mode: "sync", status: "completed" });
    const before = await syncCompleted();
    const product = await createProduct({ stock: 3 });
    const placed = await callerFor().order.place(orderInput(product.id, { mode: "sync" }));
    expect(placed.status).toBe("completed");
    expect(await syncCompleted()).toBe(before + 1);

    // Changes that would settle an order again leave its settledAt, and the count, alone.
    const settle = await changeOrder(placed.id, { settle: true });
    const compensateLate = await changeOrder(placed.id, { settledAt: new Date(Date.now() + 60_000) });
    expect(settle?.settledAt).toBe(placed.settledAt);
    expect(compensateLate?.settledAt).toBe(placed.settledAt);
    expect(await syncCompleted()).toBe(before + 1);
  });

  it("splits BullMQ's active jobs into running and waiting for the provider, summed over worker processes", async () => {
    const second = startWorkerProcess();
    try {
      await waitForOrder(
        async () => ({ status: `${(await liveWorkers()).length} workers` }),
        (listed) => listed.status === "2 workers",
        30_000,
      );
      // One email at a time, slowly: of three receipts picked up, one runs and two wait for a slot.
      await updateSettings({ services: { email: { capacity: 1, latencyMs: 1500 } } });
      const product = await createProduct({ stock: 5 });
      const orders = await Promise.all([1, 2, 3].map(() => callerFor().order.place(orderInput(product.id))));

      // waitForOrder fails the test unless both views show the split within the time.
      await waitForOrder(
        async () => {
          const email = (await queueSummaries()).find((queue) => queue.name === "email");
          const gauge = await scrapeWeb();
          const state = (name: string) =>
            seriesSum(gauge, METRIC_NAMES.queueJobs, { queue: "email", state: name });
          const seen = { summary: email?.active, gauge: [state("running"), state("waiting_for_provider")] };
          return { status: JSON.stringify(seen) };
        },
        (seen) =>
          seen.status === JSON.stringify({ summary: { running: 1, waitingForProvider: 2 }, gauge: [1, 2] }),
        15_000,
      );
      await updateSettings({ services: { email: { latencyMs: 0 } } });
      for (const order of orders) {
        await waitForOrder(readOrder(order.id), (current) => current.status === "completed");
      }
      await waitForOrder(
        async () => {
          const email = (await queueSummaries()).find((queue) => queue.name === "email");
          return { status: JSON.stringify({ waiting: email?.counts.waiting, ...email?.active }) };
        },
        (seen) => seen.status === JSON.stringify({ waiting: 0, running: 0, waitingForProvider: 0 }),
        5_000,
      );
    } finally {
      // Gracefully if it can (and killed when the test ends if it cannot).
      second.kill("SIGTERM");
      await atMost(10_000, exitOf(second));
    }
  }, 60_000);

  it("refuses a scrape that names another host, even from this machine (DNS rebinding)", async () => {
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${web.url()}/metrics`, { headers: { host: "evil.invalid" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(401);
  });

  it.skipIf(!networkAddress)("without DEV_TOOLS_KEY, refuses a scrape from another machine", async () => {
    // A metrics server on every interface, reached through this machine's network address: the peer
    // is then not loopback, as another machine's would be.
    const server = await startMetricsServer({ host: "0.0.0.0", port: 0 });
    try {
      const port = new URL(server.url).port;
      expect((await fetch(`http://${networkAddress}:${port}/metrics`)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it("a second worker on a taken metrics port says so and exits, instead of crash-looping", async () => {
    const port = new URL(workerMetricsUrl).port;
    // Should it get the port after all (the first worker gone), it is killed when the test ends.
    const second = startWorkerProcess({ WORKER_METRICS_PORT: port }, { stdout: "pipe" });
    // Its log (stdout, one JSON object per line) says why it stopped.
    let output = "";
    second.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    expect(await exitOf(second)).toEqual({ code: 1, signal: null });
    expect(output).toMatch(new RegExp(`port ${port} \\(WORKER_METRICS_PORT\\) is in use`));
    expect(output).toMatch(/WORKER_METRICS_PORT=0/);
  }, 30_000);
});

describe("bull-board under /dev/jobs", () => {
  it("renders its page with its assets under the base path, and its API lists every queue", async () => {
    const page = await fetch(`${web.url()}/dev/jobs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<base href="/dev/jobs/"');
    // Nothing from other sites (bull-board's own page asks Google for its fonts).
    expect(html).not.toMatch(/https?:\/\//);
    expect(page.headers.get("content-security-policy")).toMatch(/script-src 'self';/);
    const script = /src="(static\/js\/main[^"]+)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect((await fetch(`${web.url()}/dev/jobs/${script}`)).status).toBe(200);

    const api = await fetch(`${web.url()}/dev/jobs/api/queues`);
    expect(api.status).toBe(200);
    const { queues } = (await api.json()) as { queues: { name: string }[] };
    expect(queues.map((queue) => queue.name).sort()).toEqual([...SIDE_EFFECT_STEPS].sort());
  });

  it("refuses a change sent from another site's page", async () => {
    const response = await fetch(`${web.url()}/dev/jobs/api/queues/email/pause`, {
      method: "PUT",
      headers: { origin: "http://evil.invalid" },
    });
    expect(response.status).toBe(403);
    expect(await allSideEffectQueues()[1]?.isPaused()).toBe(false);
  });
});
