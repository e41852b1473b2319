// The Rush hour lab's arithmetic (app/_lib/rush.ts), alone: the backlog's drain rate and ETA, runs
// laid on one time axis, and a run's headline figures from its samples.
import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { MODE_COLORS, modeShades, runColors } from "../app/_lib/colors";
import {
  alignRuns,
  backlogStory,
  drainBounds,
  drainBoundWords,
  drainEstimates,
  orderRates,
  orderRatesWords,
  runFigures,
  slotStory,
  timingLines,
} from "../app/_lib/rush";
import {
  consumersForAll,
  DEFAULT_SHOP_CAPACITY,
  healthyService,
  type LoadSummaryEvent,
  loadSettingsSchema,
  type OrderView,
  providersOf,
  QUEUE_JOB_STATES,
  type QueueJobState,
  type RunView,
  type RushSample,
  type Settings,
  SIDE_EFFECT_STEPS,
  type SideEffectStep,
  totalBacklog,
} from "../server/contract";
import { mergeProcesses } from "../server/metrics/readings";
import { METRIC_NAMES } from "../server/metrics/registry";
import type { MergedMetrics } from "../server/metrics/scrape";
import { exactQuantiles, Measurements } from "../server/rush/measured";
import { describeSecond } from "../server/rush/sample";
import { doneFromClick, perSecond } from "../tools/load/figures";
import { ordersPerSecondLine } from "../tools/load/report";

type Queues = Partial<
  Record<SideEffectStep, Partial<Record<QueueJobState, number>> & { donePerSecond?: number }>
>;

function sample(t: number, queues: Queues = {}, rest: Partial<RushSample> = {}): RushSample {
  return {
    t,
    checkoutsPerSecond: 0,
    ordersDonePerSecond: null,
    refusedPerSecond: 0,
    measured: null,
    answerMs: null,
    doneMs: null,
    catalogMs: null,
    requestsInFlight: 0,
    requestSlotsInUse: 0,
    requestSlotLimit: 0,
    requestsWaitingForSlot: 0,
    queues: Object.fromEntries(
      SIDE_EFFECT_STEPS.map((step) => {
        const { donePerSecond = 0, ...jobs } = queues[step] ?? {};
        const counts = Object.fromEntries(QUEUE_JOB_STATES.map((state) => [state, jobs[state] ?? 0]));
        return [step, { jobs: counts as Record<QueueJobState, number>, donePerSecond }];
      }),
    ) as RushSample["queues"],
    ...rest,
  };
}

const BURST_PLAN = loadSettingsSchema.parse({ request: { burst: 10 }, target: "http://127.0.0.1:3000" });

function run(samples: RushSample[], label = "run"): RunView {
  return {
    id: label,
    label,
    experiment: null,
    status: "finished",
    settings: {
      load: BURST_PLAN,
      shop: DEFAULT_SHOP_CAPACITY,
      workerProcesses: 1,
      services: null,
      workerConcurrency: null,
    },
    samples,
    summary: null,
    problem: null,
    startedAt: "2026-11-29T08:00:00.000Z",
    endedAt: "2026-11-29T08:01:00.000Z",
  };
}

describe("drainEstimates", () => {
  it("divides what is left by the recent drain rate, per queue with work left", () => {
    const samples = [1, 2, 3, 4, 5].map((t) =>
      sample(t, {
        email: { waiting: 38, running: 2, delayed: 2, failed: 9, donePerSecond: 6 },
        fraud: { donePerSecond: 50 },
      }),
    );
    expect(drainEstimates(samples)).toEqual([
      { step: "email", waiting: 40, running: 2, toCome: 0, from: [], perSecond: 6, seconds: 7 },
    ]);
  });

  it("counts the jobs upstream will still make: each fraud job left makes a fulfillment job", () => {
    // The numbers: fulfillment 25 waiting at 5.8/s said "≈ 4.31 s" with 86 fraud jobs to go.
    const last = sample(5, {
      fraud: { waiting: 80, running: 6, donePerSecond: 10 },
      fulfillment: { waiting: 25, donePerSecond: 5.8 },
    });
    const [fraud, fulfillment] = drainEstimates([last]);
    expect(fraud).toMatchObject({ step: "fraud", waiting: 80, running: 6, toCome: 0, seconds: 8.6 });
    expect(fulfillment).toMatchObject({ step: "fulfillment", waiting: 25, toCome: 86, from: ["fraud"] });
    expect(fulfillment?.seconds).toBeCloseTo((25 + 86) / 5.8, 6);
    // Nothing waits in fulfillment yet, but fraud's jobs will come: it is listed, and it cannot be
    // done before fraud screening is.
    const early = drainEstimates([
      sample(1, { fraud: { waiting: 50, donePerSecond: 5 }, fulfillment: { donePerSecond: 100 } }),
    ]);
    expect(early.find((estimate) => estimate.step === "fulfillment")).toMatchObject({
      waiting: 0,
      toCome: 50,
      seconds: 10,
    });
  });

  it("has no ETA while nothing drains, and nothing to say without work left", () => {
    expect(drainEstimates([sample(1, { email: { waiting: 5 } })])).toEqual([
      { step: "email", waiting: 5, running: 0, toCome: 0, from: [], perSecond: 0, seconds: null },
    ]);
    expect(drainEstimates([sample(1)])).toEqual([]);
    expect(drainEstimates([])).toEqual([]);
  });
});

describe("the words above the charts", () => {
  it("never says 'No backlog' about a run whose chart peaked at 45 jobs waiting", () => {
    const samples = [
      sample(1, { email: { waiting: 10 } }),
      sample(2, { email: { waiting: 45, running: 8 } }),
      sample(3, { email: { waiting: 0, running: 3 } }),
      sample(4),
    ];
    const story = backlogStory(samples);
    expect(story).not.toMatch(/no backlog/i);
    expect(story).toBe("No job waits now. The backlog peaked at 45 jobs waiting at 2 s and was gone at 3 s.");
    expect(backlogStory(samples.slice(0, 3))).toBe(
      "No job waits now (3 running). The backlog peaked at 45 jobs waiting at 2 s and was gone at 3 s.",
    );
  });

  it("calls running jobs work, not a backlog", () => {
    const busy = [sample(1, { email: { running: 79 } }), sample(2, { email: { running: 40 } })];
    expect(backlogStory(busy)).toBe(
      "No backlog: no job had to wait during this run. No job waits now (40 running).",
    );
    expect(runFigures(run(busy)).peakWaiting).toBe(0);
    // While jobs wait, the queues are listed one by one (drainEstimates) instead of a story.
    expect(backlogStory([sample(1, { email: { waiting: 1 } })])).toBeNull();
  });

  it("counts requests waiting for a slot against the slot limit", () => {
    const slots = (t: number, inUse: number, waiting: number) =>
      sample(t, {}, { requestSlotLimit: 16, requestSlotsInUse: inUse, requestsWaitingForSlot: waiting });
    expect(slotStory([slots(1, 9, 0), slots(2, 16, 14), slots(3, 16, 3)])).toBe(
      "Request slots: 16 of 16 in use, 3 requests waiting for one. At most 14 waited for a slot, at 2 s.",
    );
    expect(slotStory([slots(1, 4, 0)])).toBe(
      "Request slots: 4 of 16 in use, 0 requests waiting for one. No request had to wait for a slot (at most 4 in use).",
    );
    // Once the run is over: how busy the slots got, not a "now" that has passed.
    expect(
      slotStory([slots(1, 9, 0), slots(2, 16, 14), sample(3, {}, { requestSlotLimit: 16 })], false),
    ).toBe("Request slots: 16, at most 16 in use at once. At most 14 waited for a slot, at 2 s.");
    expect(slotStory([slots(1, 4, 0)], false)).toBe(
      "Request slots: 16, at most 4 in use at once. No request had to wait for a slot.",
    );
    expect(slotStory([sample(1)])).toBeNull();
    expect(runFigures(run([slots(1, 16, 14), slots(2, 16, 3)])).peakSlotWaiting).toBe(14);
  });
});

describe("accepted against completed", () => {
  const SERVICES: Settings["services"] = {
    inventory: healthyService(5, 1),
    payment: healthyService(20, 5),
    fraud: healthyService(100, 20),
    email: healthyService(500, 30, 8),
    analytics: healthyService(50, 10),
    shipping: healthyService(150, 30),
  };
  const async = (samples: RushSample[], consumers: number | null, workerConcurrency = 12): RunView => {
    const view = run(samples);
    return {
      ...view,
      settings: {
        ...view.settings,
        load: { ...view.settings.load, mode: "async" },
        shop: { requestSlots: 0, consumers: consumersForAll(consumers) },
        workerProcesses: 2,
        services: SERVICES,
        workerConcurrency,
      },
    };
  };

  it("knows which providers a queue's job calls, one after the other", () => {
    expect(providersOf("fulfillment")).toEqual(["payment", "shipping"]);
    expect(providersOf("email")).toEqual(["email"]);
    expect(providersOf("fraud")).toEqual(["fraud"]);
    expect(providersOf("cancellationEmail")).toEqual(["email"]);
  });

  it("holds each backlogged queue's drain rate against consumers ÷ latency, capped by the provider", () => {
    // WORKER_CONCURRENCY 12 × 2 workers = 24 consumers; analytics had no backlog, so it has no line.
    const samples = [
      sample(1, { email: { waiting: 90, donePerSecond: 20 }, analytics: { donePerSecond: 50 } }),
      ...[2, 3, 4, 5, 6].map((t) => sample(t, { email: { waiting: 80, donePerSecond: 15 } })),
      sample(7, { email: { donePerSecond: 3 }, fulfillment: { waiting: 5, donePerSecond: 11 } }),
    ];
    const bounds = drainBounds(async(samples, null));
    expect(bounds.map((bound) => bound.step)).toEqual(["email", "fulfillment"]);
    const [email, fulfillment] = bounds;
    if (!email || !fulfillment) throw new Error("missing queues");
    // The email provider serves 8 calls at once: 24 consumers cannot have more than 8 in flight.
    // Over the last five seconds jobs waited (the first second's 20/s is older than that).
    expect(email).toMatchObject({ perSecond: 15, consumers: 24, inFlight: 8, cappedBy: "email" });
    expect(email.boundPerSecond).toBeCloseTo(16);
    expect(drainBoundWords(email)).toBe(
      "Receipt email: 15/s of 16/s possible with 8 calls at once (the email provider's limit; 24 consumers) at 500 ms",
    );
    // Fulfillment captures the payment, then ships: 20 + 150 ms a job, 24 in flight.
    expect(fulfillment.boundPerSecond).toBeCloseTo(24 / 0.17);
    expect(drainBoundWords(fulfillment)).toBe(
      "Fulfillment: 11/s of 141/s possible with 24 consumers at 170 ms (payment 20 ms + shipping 150 ms)",
    );
  });

  it("reads the issue's example the way it is written", () => {
    const samples = [sample(1, { email: { waiting: 100, donePerSecond: 41 } })];
    const services = { ...SERVICES, email: healthyService(500, 30, 50) };
    const view = async(samples, 12);
    const [email] = drainBounds({ ...view, settings: { ...view.settings, services } });
    if (!email) throw new Error("no email line");
    expect(drainBoundWords(email)).toBe("Receipt email: 41/s of 48/s possible with 24 consumers at 500 ms");
  });

  it("has no bound for a sync run, nor for a run saved before the lab kept the providers' knobs", () => {
    const samples = [sample(1, { email: { waiting: 10, donePerSecond: 4 } })];
    const view = async(samples, 1);
    expect(drainBounds({ ...view, settings: { ...view.settings, load: BURST_PLAN } })).toHaveLength(1);
    const sync = { ...view, settings: { ...view.settings, load: { ...BURST_PLAN, mode: "sync" as const } } };
    expect(drainBounds(sync)).toEqual([]);
    expect(drainBounds({ ...view, settings: { ...view.settings, services: null } })).toEqual([]);
  });

  it("sets orders done beside orders placed over the same seconds, so a backlog is not throughput", () => {
    const rates = (placed: number, done: number) => ({
      checkoutsPerSecond: placed,
      ordersDonePerSecond: done,
    });
    const samples = [
      sample(1, {}, rates(0, 0)),
      sample(2, {}, rates(75, 4)),
      sample(3, {}, rates(75, 6)),
      sample(4, {}, rates(0, 6)),
      sample(5, {}, rates(0, 6)),
      sample(6, {}, rates(0, 0)),
    ];
    expect(orderRates(samples, false)).toEqual({ placed: 75, done: 5, from: 1, to: 3, lastDoneAt: 5 });
    expect(orderRatesWords(samples, false)).toBe(
      "Orders while they came in (1–3 s): 75/s placed, 5.0/s done (every side effect finished). The last order was done at 5 s.",
    );
    expect(orderRatesWords(samples, true)).toBe(
      "Orders, last 5 s: 30/s placed, 4.4/s done (every side effect finished): orders not done yet pile up.",
    );
    // A run saved before the lab counted orders done says nothing rather than "0/s done".
    expect(orderRatesWords([sample(1, {}, { checkoutsPerSecond: 5 })], false)).toBeNull();
  });

  it("puts done per second beside placed per second in the load command's summary", () => {
    expect(perSecond(150, 2_000)).toBe(75);
    expect(perSecond(7, 2_000)).toBe(3.5);
    expect(perSecond(3, 0)).toBe(0);
    const summary = { ordersPerSecond: 75, donePerSecond: 3.5, elapsedMs: 2_000 } as const;
    expect(ordersPerSecondLine(summary)).toBe(
      "75 placed · 3.5 done (every side effect finished) in the same 2.0 s",
    );
    expect(ordersPerSecondLine({ ...summary, donePerSecond: null })).toBe(
      "75 placed · done n/a (not every order was followed: add --watch) in the same 2.0 s",
    );
  });
});

describe("alignRuns", () => {
  it("puts runs of different lengths on one axis, with gaps where a run has no sample", () => {
    const short = run([sample(1, {}, { checkoutsPerSecond: 5 }), sample(2, {}, { checkoutsPerSecond: 6 })]);
    const long = run([1, 2, 3].map((t) => sample(t, {}, { checkoutsPerSecond: 10 * t })));
    expect(alignRuns([short, long], (s) => s.checkoutsPerSecond)).toEqual({
      x: [1, 2, 3],
      values: [
        [5, 6, null],
        [10, 20, 30],
      ],
    });
  });
});

describe("runFigures", () => {
  it("counts answers from per-second rates, and times the drain from the peak to an empty backlog", () => {
    const samples = [
      sample(
        1,
        { email: { waiting: 10 } },
        { checkoutsPerSecond: 100, answerMs: { p50: 5, p95: 9, p99: 20 } },
      ),
      sample(
        2,
        { email: { waiting: 30 } },
        { checkoutsPerSecond: 50, answerMs: { p50: 6, p95: 12, p99: 30 } },
      ),
      sample(3, { email: { waiting: 4, running: 2 } }),
      sample(4),
      sample(5),
    ];
    const figures = runFigures(run(samples));
    expect(figures.placed).toBe(150);
    expect(figures.perSecond).toBe(30);
    // No summary (the load process died): no whole-run timing is made up from buckets.
    expect(figures.answerP95).toBeNull();
    expect(figures.doneP95).toBeNull();
    expect(figures.peakWaiting).toBe(30);
    expect(figures.drainedAfterS).toBe(4);
    expect(samples.map(totalBacklog)).toEqual([10, 30, 6, 0, 0]);
  });

  it("takes whole-run timings from the load process's summary: exact over every order", () => {
    const summary: LoadSummaryEvent = {
      type: "summary",
      runId: "r1",
      stoppedBy: "burst-answered",
      elapsedMs: 900,
      sent: 3,
      answered: 3,
      placed: 3,
      errors: {},
      abandoned: 0,
      dropped: 0,
      retries: { busy: 0, stillProcessing: 0 },
      ordersPerSecond: 3.3,
      donePerSecond: 1.1,
      answerMs: { p50: 41.2, p95: 97.5, p99: 97.5 },
      doneMs: { p50: 812.4, p95: 1933.1, p99: 1933.1, measured: 3, unsettled: 0 },
      catalogMs: { p50: 3.1, p95: 7.9, p99: 7.9, calls: 3 },
      peakQueueDepth: null,
    };
    const figures = runFigures({
      ...run([sample(1, {}, { answerMs: { p50: 50, p95: 100, p99: 100 } })]),
      summary,
    });
    expect(figures).toMatchObject({
      placed: 3,
      donePerSecond: 1.1,
      answerP95: 97.5,
      doneP95: 1933.1,
      catalogP95: 7.9,
    });
  });

  it("says the backlog never drained when it did not", () => {
    expect(runFigures(run([sample(1, { fraud: { waiting: 3 } })])).drainedAfterS).toBeNull();
  });
});

describe("describeSecond (server/rush/sample.ts)", () => {
  /** One process's metrics: a histogram of the shop's name and labels, `counts` observations per label
   * set, as prom-client's registry gives them (getMetricsAsJSON). */
  const processWith = async (name: string, counts: { labels: Record<string, string>; count: number }[]) => {
    const registry = new Registry();
    const histogram = new Histogram({
      name,
      help: "t",
      labelNames: Object.keys(counts[0]?.labels ?? {}),
      buckets: [0.01],
      registers: [registry],
    });
    for (const { labels, count } of counts) {
      for (let index = 0; index < count; index++) histogram.observe(labels, 0.005);
    }
    return registry.getMetricsAsJSON();
  };
  const merged = async (at: number, perProcess: MergedMetrics["perProcess"]): Promise<MergedMetrics> => ({
    at,
    perProcess,
    metrics: await mergeProcesses(perProcess.map((process) => process.metrics)),
    processes: [],
  });
  const scrape = async (at: number, processes: Record<string, number>) =>
    merged(
      at,
      await Promise.all(
        Object.entries(processes).map(async ([source, placed]) => ({
          source,
          metrics: await processWith(METRIC_NAMES.checkoutAnswer, [
            { labels: { mode: "async", outcome: "placed" }, count: placed },
          ]),
        })),
      ),
    );

  it("counts per process, so a process missing from one scrape is no reset of the sum", async () => {
    const first = await scrape(0, { web: 100, worker: 5_000 });
    const workerMissing = await scrape(1_000, { web: 110 });
    const workerBack = await scrape(2_000, { web: 120, worker: 5_000 });
    expect(describeSecond(first, workerMissing, 0).checkoutsPerSecond).toBe(10);
    expect(describeSecond(workerMissing, workerBack, 0).checkoutsPerSecond).toBe(10);
    expect(describeSecond(first, workerBack, 0)).toMatchObject({ t: 2, checkoutsPerSecond: 10 });
  });

  it("counts orders done per second from the time-to-done histogram, every process summed", async () => {
    const done = (count: number) =>
      processWith(METRIC_NAMES.orderDone, [
        { labels: { mode: "async", status: "completed" }, count },
        { labels: { mode: "async", status: "cancelled" }, count: 1 },
      ]);
    const at = async (ms: number, web: number, worker: number) =>
      merged(ms, [
        { source: "web", metrics: await done(web) },
        { source: "worker", metrics: await done(worker) },
      ]);
    expect(describeSecond(await at(0, 3, 10), await at(2_000, 5, 24), 0).ordersDonePerSecond).toBe(8);
  });
});

describe("exact figures (server/rush/measured.ts)", () => {
  it("takes percentiles by nearest rank over every figure: one of the figures, never an interpolation", () => {
    const values = Array.from({ length: 100 }, (_, index) => index + 1).reverse();
    expect(exactQuantiles(values)).toEqual({ count: 100, p50: 50, p95: 95, p99: 99 });
    // Bucket edges of 1–2.5 s gave "a flat 1.75 s"; these are the orders' own times.
    expect(exactQuantiles([1210.4, 1388.2, 2044.9])).toEqual({
      count: 3,
      p50: 1388.2,
      p95: 2044.9,
      p99: 2044.9,
    });
    expect(exactQuantiles([])).toBeNull();
  });

  it("lays each figure into the sampler's second it was taken in, late ones too", () => {
    // The load process started 250 ms after the sampler's first scrape.
    const measured = new Measurements(250);
    measured.add({
      type: "measured",
      answers: [
        { at: 100, ms: 40 },
        { at: 700, ms: 60 },
        { at: 900, ms: 500 },
      ],
      done: [],
      catalog: [{ at: 1200, ms: 3 }],
    });
    const seconds = [{ t: 1 }, { t: 2 }];
    expect(measured.bySecond(seconds)).toEqual([
      { answerMs: { count: 2, p50: 40, p95: 60, p99: 60 }, doneMs: null, catalogMs: null },
      {
        answerMs: { count: 1, p50: 500, p95: 500, p99: 500 },
        doneMs: null,
        catalogMs: { count: 1, p50: 3, p95: 3, p99: 3 },
      },
    ]);
    // A time to done known later (polled) lands in the second the order was done, not when it was heard of.
    measured.add({ type: "measured", answers: [], done: [{ at: 600, ms: 1200 }], catalog: [] });
    expect(measured.bySecond(seconds)[0]?.doneMs).toEqual({ count: 1, p50: 1200, p95: 1200, p99: 1200 });
    // After the last sample: waits for the next one.
    measured.add({ type: "measured", answers: [{ at: 5_000, ms: 9 }], done: [], catalog: [] });
    expect(measured.bySecond(seconds).map((second) => second.answerMs?.count)).toEqual([2, 1]);
  });

  it("measures time to done from the click, so a sync order is never done before it answered", () => {
    const order = (createdAt: string, confirmedAt: string, settledAt: string | null) =>
      ({ createdAt, confirmedAt, settledAt, status: "completed" }) as unknown as OrderView;
    // Sync: the shopper waited 3.4 s (2 s of it for a request slot); the order's own clock says 1.4 s.
    const sync = order("2026-12-01T10:00:00.000Z", "2026-12-01T10:00:01.400Z", "2026-12-01T10:00:01.390Z");
    expect(doneFromClick(sync, 3400)).toBe(3400);
    // Async: answered in 80 ms, done 2.5 s after the order was confirmed.
    const async = order("2026-12-01T10:00:00.000Z", "2026-12-01T10:00:00.050Z", "2026-12-01T10:00:02.550Z");
    expect(doneFromClick(async, 80)).toBe(80 + 2500);
    expect(doneFromClick(order("2026-12-01T10:00:00.000Z", "2026-12-01T10:00:00.050Z", null), 80)).toBeNull();
  });

  it("draws exact lines when the lab measured, and labels bucket estimates as such", () => {
    const measuredSample = sample(
      1,
      {},
      {
        answerMs: { p50: 1750, p95: 2425, p99: 2485 },
        measured: { answerMs: { count: 4, p50: 1210, p95: 2044, p99: 2044 }, doneMs: null, catalogMs: null },
      },
    );
    const exact = timingLines(run([measuredSample]), "answerMs", ["p50", "p95"]);
    expect(exact.map((line) => [line.label, line.estimate, line.values])).toEqual([
      ["p50", false, [1210]],
      ["p95", false, [2044]],
    ]);
    // A run saved before the lab kept its figures: the buckets, said to be buckets.
    const old = timingLines(
      run([sample(1, {}, { answerMs: { p50: 1750, p95: 2425, p99: 2485 } })]),
      "answerMs",
      ["p50"],
    );
    expect(old).toEqual([{ label: "≈ p50 (from buckets)", quantile: "p50", estimate: true, values: [1750] }]);
  });
});

describe("colours (app/_lib/colors.ts)", () => {
  it("gives each mode one colour, and runs of one mode shades of it, light to dark", () => {
    expect(runColors(["sync", "async"])).toEqual([MODE_COLORS.sync, MODE_COLORS.async]);
    const consumers = runColors(["async", "async", "async"]);
    expect(consumers).toEqual(modeShades("async", 3));
    expect(new Set(consumers).size).toBe(3);
    const lightness = (hex: string) =>
      [1, 3, 5].reduce((sum, at) => sum + Number.parseInt(hex.slice(at, at + 2), 16), 0);
    expect(consumers.map(lightness)).toEqual([...consumers.map(lightness)].sort((a, b) => b - a));
    expect(runColors(["async", "sync", "async"])).toEqual([
      modeShades("async", 2)[0],
      MODE_COLORS.sync,
      modeShades("async", 2)[1],
    ]);
  });
});
