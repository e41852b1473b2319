// The "other mode" line (app/_lib/counterfactual.ts) under every preset of the console: the same
// rules the checkout follows, fed with the order's own attempts and the knobs recorded with it. An
// async order that survived an email outage would have failed in sync; a fraudster's would have been
// rejected before any answer; a sync checkout that failed would have stood in async with its receipt
// parked in the dead-letter set. Pure: hand-made orders, no clock.
import { describe, expect, it } from "vitest";
import { counterfactual, predictInMode } from "../app/_lib/counterfactual";
import {
  type CheckoutMode,
  conditionsOf,
  INLINE_BACKOFF_MS,
  type OrderStatus,
  type OrderStepView,
  type OrderView,
  PLANNED_STEPS,
  PRESETS,
  type PresetName,
  QUEUE_BACKOFF_MS,
  type SideEffectStep,
  type StepAttemptView,
  type StepName,
} from "../server/contract";
import { PENDING_STEP } from "../server/orders/view";

const CREATED = Date.parse("2026-12-07T10:00:00.000Z");
const t = (ms: number) => new Date(CREATED + ms).toISOString();

type Tries = ("ok" | "fail" | "reject")[];

/** An order that ran under `preset` in `mode`, every call taking exactly its knob's latency: the
 * critical path, then each side effect's tries (default: one that succeeds) one after another. */
function orderUnder(
  preset: PresetName,
  mode: CheckoutMode,
  status: OrderStatus,
  tries: Partial<Record<SideEffectStep, Tries>> = {},
): OrderView {
  const services = PRESETS[preset].services;
  const latency = (step: SideEffectStep) =>
    step === "fulfillment"
      ? services.payment.latencyMs + services.shipping.latencyMs
      : services[step === "fraud" ? "fraud" : step === "email" ? "email" : "analytics"].latencyMs;
  const stock = services.inventory.latencyMs;
  const paid = stock + services.payment.latencyMs;
  let clock = paid;
  const steps: OrderStepView[] = PLANNED_STEPS.map((name: StepName) => {
    const base = { name, ...PENDING_STEP };
    if (name === "inventory") return { ...base, status: "succeeded", startedAt: t(0), finishedAt: t(stock) };
    if (name === "payment") return { ...base, status: "succeeded", startedAt: t(stock), finishedAt: t(paid) };
    if (name === "order") return { ...base, status: "succeeded", startedAt: t(paid), finishedAt: t(paid) };
    const step = name as SideEffectStep;
    const history: StepAttemptView[] = (tries[step] ?? ["ok"]).map((result) => {
      const ms =
        result === "fail" && services[step === "fulfillment" ? "shipping" : "email"].down ? 0 : latency(step);
      const attempt: StepAttemptView = {
        queuedAt: null,
        backoffMs: null,
        startedAt: t(clock),
        finishedAt: t(clock + ms),
        outcome: result === "ok" ? "succeeded" : result === "reject" ? "rejected" : "failed",
        error: null,
      };
      clock += ms;
      return attempt;
    });
    const last = history.at(-1)?.outcome;
    return {
      ...base,
      status: last === "succeeded" ? "succeeded" : last === "rejected" ? "rejected" : "failed",
      attempts: history.length,
      startedAt: history[0]?.startedAt ?? null,
      finishedAt: history.at(-1)?.finishedAt ?? null,
      attemptHistory: history,
    };
  });
  return {
    id: "00000000-0000-4000-8000-000000000000",
    status,
    mode,
    totalCents: 100,
    customer: { name: "Ada", email: "ada@example.com" },
    items: [],
    steps,
    failureReason: null,
    conditions: conditionsOf(services),
    version: 9,
    createdAt: t(0),
    confirmedAt: t(paid),
    settledAt: t(clock),
  };
}

// Realistic latencies: stock 40, payment 300, fraud 800, email 1200, analytics 200, shipping 1500.
const CRITICAL = 340;
const SIDE_EFFECTS_IN_SYNC = 800 + 1200 + 200 + (300 + 1500);

describe("an async order, told what sync would have done: one rule per preset", () => {
  const cases: Record<PresetName, { tries?: Partial<Record<SideEffectStep, Tries>>; expected: unknown }> = {
    "all-fast": { expected: { mode: "sync", outcome: "confirmed", ms: 0, later: null } },
    realistic: {
      expected: { mode: "sync", outcome: "confirmed", ms: CRITICAL + SIDE_EFFECTS_IN_SYNC, later: null },
    },
    // The receipt failed every queued attempt and waited for an operator's Retry: in sync the request
    // fails after its two quick tries, and the authorization is voided before it answers.
    "email-outage": {
      tries: { email: ["fail", "fail", "fail", "fail", "ok"] },
      expected: {
        mode: "sync",
        outcome: "failed",
        step: "email",
        refunded: false,
        ms: CRITICAL + 800 + INLINE_BACKOFF_MS + 300,
      },
    },
    "slow-payment": {
      expected: {
        mode: "sync",
        outcome: "confirmed",
        ms: 40 + 2500 + 800 + 1200 + 200 + 2500 + 1500,
        later: null,
      },
    },
    // Half the fraud calls fail: once, then it passed. Sync retries once too, after its short backoff.
    "flaky-fraud": {
      tries: { fraud: ["fail", "ok"] },
      expected: {
        mode: "sync",
        outcome: "confirmed",
        ms: CRITICAL + 800 + INLINE_BACKOFF_MS + SIDE_EFFECTS_IN_SYNC,
        later: null,
      },
    },
    "rate-limited-email": {
      expected: { mode: "sync", outcome: "confirmed", ms: CRITICAL + SIDE_EFFECTS_IN_SYNC, later: null },
    },
  };
  for (const [preset, { tries, expected }] of Object.entries(cases) as [
    PresetName,
    (typeof cases)[PresetName],
  ][]) {
    it(preset, () => {
      expect(counterfactual(orderUnder(preset, "async", "completed", tries))).toEqual(expected);
    });
  }

  it("a fraudster's order would have been rejected before any answer: screening, then the void", () => {
    const order = orderUnder("realistic", "async", "cancelled", { fraud: ["reject"] });
    expect(counterfactual(order)).toEqual({ mode: "sync", outcome: "rejected", ms: CRITICAL + 800 + 300 });
  });

  it("fraud failing twice in a row is more than sync's two tries: the checkout fails at fraud screening", () => {
    const order = orderUnder("flaky-fraud", "async", "completed", { fraud: ["fail", "fail", "ok"] });
    expect(counterfactual(order)).toMatchObject({
      outcome: "failed",
      step: "fraud",
      ms: CRITICAL + 800 + INLINE_BACKOFF_MS + 800 + 300,
    });
  });

  it("side by side, the email outage fails the checkout after fulfillment captured: charged, then refunded", () => {
    const order = orderUnder("email-outage", "async", "completed", {
      email: ["fail", "fail", "fail", "fail", "ok"],
    });
    // Fraud then fulfillment (800 + 1800) is the longest chain; then the shipment is cancelled (1500),
    // the payment refunded (300) and the recorded sale reversed (200).
    expect(predictInMode(order, "sync-parallel")).toEqual({
      mode: "sync-parallel",
      outcome: "failed",
      step: "email",
      refunded: true,
      ms: CRITICAL + 800 + 1800 + 1500 + 300 + 200,
    });
  });
});

describe("a sync order, told what async would have done", () => {
  it("realistic: the answer after stock and payment, everything done later", () => {
    expect(counterfactual(orderUnder("realistic", "sync", "completed"))).toEqual({
      mode: "async",
      outcome: "confirmed",
      ms: CRITICAL,
      later: { kind: "completed", ms: CRITICAL + 800 + 1800 },
    });
  });

  it("email outage: the failed checkout would have stood, its receipt parked in the dead-letter set", () => {
    const order = orderUnder("email-outage", "sync", "failed", {
      email: ["fail", "fail"],
      analytics: [],
      fulfillment: [],
    });
    // Two tries recorded; the knobs say the next two fail as well (1 s, then 2 s, then 4 s of backoff).
    expect(counterfactual(order)).toEqual({
      mode: "async",
      outcome: "confirmed",
      ms: CRITICAL,
      later: { kind: "dead-lettered", step: "email", ms: CRITICAL + QUEUE_BACKOFF_MS * (1 + 2 + 4) },
    });
  });

  it("a fraudster: confirmed at once, cancelled when screening says no", () => {
    const order = orderUnder("realistic", "sync-parallel", "cancelled", {
      fraud: ["reject"],
      fulfillment: [],
    });
    expect(counterfactual(order)).toEqual({
      mode: "async",
      outcome: "confirmed",
      ms: CRITICAL,
      later: { kind: "cancelled", ms: CRITICAL + 800 + 300 },
    });
  });

  it("says nothing it would have to make up: an order placed before its knobs were recorded", () => {
    const order = {
      ...orderUnder("email-outage", "sync", "failed", { email: ["fail", "fail"], fulfillment: [] }),
    };
    expect(counterfactual({ ...order, conditions: null })).toBeNull();
  });
});
