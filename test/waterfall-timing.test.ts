// The waterfall's arithmetic (app/_lib/step-timeline.ts, app/_lib/time-axis.ts, app/_lib/mode.ts), on
// hand-made steps: every attempt its own run, the backoff and the queue wait between them, the time parked
// in the dead-letter set until an operator's Retry, the compensation at its own time, and which fault
// preset the mode bar names (the counterfactual line: counterfactual.test.ts). Pure functions: no
// database, no clock but the one passed in.
import { describe, expect, it } from "vitest";
import { activePreset } from "../app/_lib/mode";
import { type Segment, stepTimeline, totalOf } from "../app/_lib/step-timeline";
import { timeScale } from "../app/_lib/time-axis";
import {
  type OrderStepView,
  PRESETS,
  type PresetName,
  REALISTIC_SETTINGS,
  type StepAttemptView,
  type StepName,
} from "../server/contract";
import { PENDING_STEP } from "../server/orders/view";

const CREATED = Date.parse("2026-11-29T10:00:00.000Z");
const t = (ms: number) => new Date(CREATED + ms).toISOString();
const createdAt = t(0);

function step(name: StepName, fields: Partial<OrderStepView> = {}): OrderStepView {
  return { name, ...PENDING_STEP, ...fields };
}

function attempt(
  startMs: number,
  endMs: number | null,
  outcome: StepAttemptView["outcome"],
  wait: { queuedMs?: number; backoffMs?: number } = {},
): StepAttemptView {
  return {
    queuedAt: wait.queuedMs === undefined ? null : t(wait.queuedMs),
    backoffMs: wait.backoffMs ?? null,
    startedAt: t(startMs),
    finishedAt: endMs === null ? null : t(endMs),
    outcome,
    error: outcome === "failed" || outcome === "dead-lettered" ? "provider down" : null,
  };
}

/** The stretches as [kind, from, to] (and a run's outcome), easy to read in a failure. */
const shape = (segments: Segment[]) =>
  segments.map(({ kind, startMs, endMs, outcome }) =>
    kind === "running" ? [kind, startMs, endMs, outcome] : [kind, startMs, endMs],
  );

describe("stepTimeline: one row's stretches", () => {
  it("draws each attempt as its own run, with the backoff and the queue wait between them", () => {
    const email = step("email", {
      status: "succeeded",
      attempts: 2,
      startedAt: t(110),
      finishedAt: t(1400),
      attemptHistory: [
        attempt(110, 200, "failed", { queuedMs: 100 }),
        attempt(1250, 1400, "succeeded", { backoffMs: 1000 }),
      ],
    });
    const timeline = stepTimeline(email, createdAt, CREATED + 5000);
    expect(shape(timeline.segments)).toEqual([
      ["queued", 100, 110],
      ["running", 110, 200, "failed"],
      ["backoff", 200, 1200],
      ["queued", 1200, 1250],
      ["running", 1250, 1400, "succeeded"],
    ]);
    expect(timeline.marks).toEqual([]);
    expect(totalOf(timeline, "running")).toBe(240);
    expect(totalOf(timeline, "queued")).toBe(60);
    expect(totalOf(timeline, "backoff")).toBe(1000);
  });

  it("splits an inline retry's gap the same way: its backoff, then no queue", () => {
    const email = step("email", {
      status: "succeeded",
      attempts: 2,
      startedAt: t(50),
      finishedAt: t(400),
      attemptHistory: [attempt(50, 100, "failed"), attempt(252, 400, "succeeded", { backoffMs: 150 })],
    });
    expect(shape(stepTimeline(email, createdAt, CREATED + 500).segments)).toEqual([
      ["running", 50, 100, "failed"],
      ["backoff", 100, 250],
      ["queued", 250, 252],
      ["running", 252, 400, "succeeded"],
    ]);
  });

  it("parks a dead letter until the operator's Retry, marks the Retry, then queues and runs again", () => {
    const email = step("email", {
      status: "succeeded",
      attempts: 2,
      startedAt: t(100),
      finishedAt: t(3100),
      deadLetteredAt: t(500),
      retriedByOperatorAt: t(3000),
      attemptHistory: [
        attempt(100, 500, "dead-lettered"),
        attempt(3020, 3100, "succeeded", { backoffMs: 1000 }),
      ],
    });
    const timeline = stepTimeline(email, createdAt, CREATED + 9000);
    expect(shape(timeline.segments)).toEqual([
      ["running", 100, 500, "dead-lettered"],
      ["dead-letter", 500, 3000],
      ["queued", 3000, 3020],
      ["running", 3020, 3100, "succeeded"],
    ]);
    expect(timeline.marks).toEqual([{ kind: "operator-retry", atMs: 3000 }]);
  });

  it("keeps a dead letter parked until now while nobody acts, and queued once Retry was pressed", () => {
    const parked = step("email", {
      status: "failed",
      attempts: 4,
      startedAt: t(100),
      finishedAt: t(600),
      deadLetteredAt: t(600),
      attemptHistory: [attempt(500, 600, "dead-lettered", { backoffMs: 4000 })],
    });
    const now = CREATED + 2000;
    const waiting = stepTimeline(parked, createdAt, now).segments.at(-1);
    expect(waiting).toMatchObject({ kind: "dead-letter", startMs: 600, endMs: 2000, live: true });

    const retried = stepTimeline({ ...parked, retriedByOperatorAt: t(1500) }, createdAt, now);
    expect(shape(retried.segments).slice(-2)).toEqual([
      ["dead-letter", 600, 1500],
      ["queued", 1500, 2000],
    ]);
    expect(retried.marks).toEqual([{ kind: "operator-retry", atMs: 1500 }]);
  });

  it("ends a discarded dead letter at the discard", () => {
    const discarded = step("email", {
      status: "skipped",
      attempts: 4,
      startedAt: t(100),
      finishedAt: t(600),
      deadLetteredAt: t(600),
      discardedAt: t(900),
      attemptHistory: [attempt(500, 600, "dead-lettered")],
    });
    const timeline = stepTimeline(discarded, createdAt, CREATED + 5000);
    expect(shape(timeline.segments).at(-1)).toEqual(["dead-letter", 600, 900]);
    expect(timeline.marks).toEqual([{ kind: "discarded", atMs: 900 }]);
  });

  it("draws the compensation when it happened, after the step's own run", () => {
    const payment = step("payment", {
      status: "compensated",
      attempts: 1,
      startedAt: t(40),
      finishedAt: t(390),
      detail: "Authorization voided",
      compensatedAt: t(1210),
    });
    expect(shape(stepTimeline(payment, createdAt, CREATED + 5000).segments)).toEqual([
      ["running", 40, 390, "succeeded"],
      ["compensation", 1210, 1210],
    ]);
  });

  it("grows a running attempt, and the backoff of a step waiting to retry, until now", () => {
    const running = step("fraud", {
      status: "running",
      attempts: 1,
      startedAt: t(300),
      attemptHistory: [attempt(300, null, null, { queuedMs: 290 })],
    });
    expect(stepTimeline(running, createdAt, CREATED + 800).segments.at(-1)).toMatchObject({
      kind: "running",
      startMs: 300,
      endMs: 800,
      live: true,
    });
    const retrying = step("fraud", {
      status: "retrying",
      attempts: 1,
      startedAt: t(300),
      finishedAt: t(400),
      attemptHistory: [attempt(300, 400, "failed", { queuedMs: 290 })],
    });
    expect(stepTimeline(retrying, createdAt, CREATED + 900).segments.at(-1)).toMatchObject({
      kind: "backoff",
      startMs: 400,
      endMs: 900,
      live: true,
    });
  });

  it("ends a run cut short (its worker died) where the redelivery started", () => {
    const email = step("email", {
      status: "succeeded",
      attempts: 2,
      startedAt: t(100),
      finishedAt: t(900),
      attemptHistory: [attempt(100, null, null, { queuedMs: 90 }), attempt(700, 900, "succeeded")],
    });
    expect(shape(stepTimeline(email, createdAt, CREATED + 2000).segments)).toEqual([
      ["queued", 90, 100],
      ["running", 100, 700, null],
      ["running", 700, 900, "succeeded"],
    ]);
  });

  it("reads a step stored before attempts had a history as one run", () => {
    const old = step("analytics", { status: "succeeded", attempts: 1, startedAt: t(10), finishedAt: t(30) });
    expect(shape(stepTimeline(old, createdAt, CREATED + 100).segments)).toEqual([
      ["running", 10, 30, "succeeded"],
    ]);
    expect(stepTimeline(step("fulfillment"), createdAt, CREATED + 100).segments).toEqual([]);
  });
});

describe("the active preset in the mode bar", () => {
  it("names every preset of the console when its knobs are set, and healthy when every knob is 0", () => {
    for (const name of Object.keys(PRESETS) as PresetName[]) {
      const active = activePreset(PRESETS[name].services);
      expect(active.name).toBe(name);
      expect(active.label).toBe(
        name === "all-fast" ? "All services healthy" : `Preset: ${PRESETS[name].label}`,
      );
    }
    expect(activePreset(PRESETS["email-outage"].services).label).toBe("Preset: Email outage");
  });

  it("calls knobs that match no preset custom", () => {
    const services = {
      ...REALISTIC_SETTINGS.services,
      email: { ...REALISTIC_SETTINGS.services.email, latencyMs: 1234 },
    };
    expect(activePreset(services)).toEqual({ name: null, label: "Custom fault knobs" });
  });
});

describe("timeScale: a long tail does not crush the busy part", () => {
  it("squeezes one long quiet stretch into a narrow gap, and keeps the busy part's width", () => {
    // Busy for 2 s, parked 90 s in the dead-letter set, then one more second after the Retry.
    const events = [0, 40, 300, 320, 1120, 1520, 2000, 92_000, 92_100, 93_000];
    const scale = timeScale(events, 6);
    expect(scale.gap?.fromMs).toBeGreaterThan(2000);
    expect(scale.gap?.toMs).toBeLessThan(92_000);
    // Linear, the first 2 s would take about 2 % of the track; squeezed, most of what is left.
    expect(scale.percent(2000)).toBeGreaterThan(40);
    // The 88 s between them: the gap's 8 % and a little room either side.
    expect(scale.percent(92_000) - scale.percent(2000)).toBeLessThan(16);
    expect(scale.percent(scale.spanMs)).toBe(100);
    expect(scale.percent(93_000)).toBeLessThan(100);
    // Every tick is drawn outside the gap.
    for (const tick of scale.ticks)
      expect(tick <= (scale.gap?.fromMs ?? 0) || tick >= (scale.gap?.toMs ?? 0)).toBe(true);
  });

  it("leaves an axis without a quiet stretch linear", () => {
    const scale = timeScale([0, 300, 1200, 2500, 4000], 6);
    expect(scale.gap).toBeNull();
    expect(scale.percent(2120)).toBeCloseTo(50);
  });
});
