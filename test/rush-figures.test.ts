// The Rush hour lab's arithmetic (app/_lib/rush.ts), alone: the backlog's drain rate and ETA, runs
// laid on one time axis, and a run's headline figures from its samples.
import { describe, expect, it } from "vitest";
import { alignRuns, drainEstimates, runFigures } from "../app/_lib/rush";
import {
  DEFAULT_SHOP_CAPACITY,
  loadSettingsSchema,
  QUEUE_JOB_STATES,
  type QueueJobState,
  type RunView,
  type RushSample,
  SIDE_EFFECT_STEPS,
  type SideEffectStep,
  totalBacklog,
} from "../server/contract";
import { mergeFamilies, parsePrometheusText } from "../server/metrics/text";
import { describeSecond } from "../server/rush/sample";

type Queues = Partial<
  Record<SideEffectStep, Partial<Record<QueueJobState, number>> & { donePerSecond?: number }>
>;

function sample(t: number, queues: Queues = {}, rest: Partial<RushSample> = {}): RushSample {
  return {
    t,
    checkoutsPerSecond: 0,
    refusedPerSecond: 0,
    answerMs: null,
    doneMs: null,
    catalogMs: null,
    requestsInFlight: 0,
    requestSlotsInUse: 0,
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
    settings: { load: BURST_PLAN, shop: DEFAULT_SHOP_CAPACITY, workerProcesses: 1 },
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
    expect(drainEstimates(samples)).toEqual([{ step: "email", backlog: 42, perSecond: 6, seconds: 7 }]);
  });

  it("has no ETA while nothing drains, and nothing to say without a backlog", () => {
    expect(drainEstimates([sample(1, { email: { waiting: 5 } })])).toEqual([
      { step: "email", backlog: 5, perSecond: 0, seconds: null },
    ]);
    expect(drainEstimates([sample(1)])).toEqual([]);
    expect(drainEstimates([])).toEqual([]);
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
    expect(figures.answered).toBe(150);
    expect(figures.perSecond).toBe(30);
    expect(figures.worstAnswerP95).toBe(12);
    expect(figures.worstDoneP95).toBeNull();
    expect(figures.peakBacklog).toBe(30);
    expect(figures.drainedAfterS).toBe(4);
    expect(samples.map(totalBacklog)).toEqual([10, 30, 6, 0, 0]);
  });

  it("says the backlog never drained when it did not", () => {
    expect(runFigures(run([sample(1, { fraud: { waiting: 3 } })])).drainedAfterS).toBeNull();
  });
});

describe("describeSecond (server/rush/sample.ts)", () => {
  const text = (placed: number) =>
    [
      "# HELP storefront_checkout_answer_seconds t",
      "# TYPE storefront_checkout_answer_seconds histogram",
      `storefront_checkout_answer_seconds_bucket{le="0.01",mode="async",outcome="placed"} ${placed}`,
      `storefront_checkout_answer_seconds_bucket{le="+Inf",mode="async",outcome="placed"} ${placed}`,
      `storefront_checkout_answer_seconds_sum{mode="async",outcome="placed"} ${placed * 0.005}`,
      `storefront_checkout_answer_seconds_count{mode="async",outcome="placed"} ${placed}`,
      "",
    ].join("\n");
  const scrape = (at: number, processes: Record<string, number>) => {
    const perProcess = Object.entries(processes).map(([source, placed]) => ({
      source,
      families: parsePrometheusText(text(placed)),
    }));
    return {
      at,
      perProcess,
      families: mergeFamilies(perProcess.map((process) => process.families)),
      processes: [],
    };
  };

  it("counts per process, so a process missing from one scrape is no reset of the sum", () => {
    const first = scrape(0, { web: 100, worker: 5_000 });
    const workerMissing = scrape(1_000, { web: 110 });
    const workerBack = scrape(2_000, { web: 120, worker: 5_000 });
    expect(describeSecond(first, workerMissing, 0).checkoutsPerSecond).toBe(10);
    expect(describeSecond(workerMissing, workerBack, 0).checkoutsPerSecond).toBe(10);
    expect(describeSecond(first, workerBack, 0)).toMatchObject({ t: 2, checkoutsPerSecond: 10 });
  });
});
