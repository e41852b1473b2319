// The other side of the argument for one order: what the shopper would have lived through in the other
// mode, under the same conditions. Worked out with the rules the checkout itself follows (the contract's
// retry policies, the order the side effects run in, fraud screening's verdict undoing the order, a
// failing synchronous checkout compensated before it answers), fed with what this order really did:
// each side effect's attempts as they ran, and, past those, what the knobs recorded with the order
// promise (a service that is down fails every call at once; one that is up answers in its latency).
// So a checkout that async survives can fail in sync ("would have failed after ≈ 1.6 s, nothing
// bought"), and one that sync refuses can stand in async with its receipt parked in the dead-letter set.
import {
  CHECKOUT_MODES,
  type CheckoutMode,
  FIRST_SIDE_EFFECTS,
  INLINE_ATTEMPTS,
  INLINE_BACKOFF_MS,
  isMoving,
  MODES,
  type OrderConditions,
  type OrderStepView,
  type OrderView,
  PLANNED_SIDE_EFFECTS,
  QUEUE_ATTEMPTS,
  QUEUE_BACKOFF_MS,
  type ServiceName,
  type SideEffectStep,
  type StepAttemptView,
  stepsAfter,
} from "@/server/contract";
import { criticalPathMs } from "./order-timing";

/** The provider calls each side effect makes, in order (server/steps/*): fulfillment captures the
 * payment, then books the shipment. A call to a service that is down fails at once. */
const CALLS: Record<SideEffectStep, readonly ServiceName[]> = {
  fraud: ["fraud"],
  email: ["email"],
  analytics: ["analytics"],
  fulfillment: ["payment", "shipping"],
  cancellationEmail: ["email"],
  saleReversal: ["analytics"],
};

/** One try of a step: how long it took and how it ended. */
interface Try {
  ms: number;
  result: "ok" | "fail" | "reject";
}

/** How a step ends under a retry policy: after its tries and the backoffs between them. */
interface StepEnd {
  ms: number;
  result: Try["result"];
  /** A failing fulfillment had captured the payment before the shipment failed. */
  captured: boolean;
}

interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

const INLINE: RetryPolicy = { attempts: INLINE_ATTEMPTS, backoffMs: INLINE_BACKOFF_MS };
const QUEUED: RetryPolicy = { attempts: QUEUE_ATTEMPTS, backoffMs: QUEUE_BACKOFF_MS };

/** Thrown inside when the answer needs a knob the order did not record (an order placed before
 * conditions were kept): then no counterfactual is given rather than a made-up one. */
class Unknowable extends Error {}

export type Prediction =
  | { mode: CheckoutMode; outcome: "confirmed"; ms: number; later: Later | null }
  | { mode: CheckoutMode; outcome: "rejected"; ms: number }
  | { mode: CheckoutMode; outcome: "failed"; ms: number; step: SideEffectStep; refunded: boolean };

/** After an async answer: how the order would have gone on, on the same clock. */
export type Later =
  | { kind: "completed"; ms: number }
  | { kind: "cancelled"; ms: number }
  | { kind: "dead-lettered"; ms: number; step: SideEffectStep };

function outcomeOf(attempt: StepAttemptView): Try["result"] | null {
  switch (attempt.outcome) {
    case "succeeded":
      return "ok";
    case "rejected":
      return "reject";
    case "failed":
    case "dead-lettered":
      return "fail";
    default:
      return null;
  }
}

/** The tries this order's step really had, in order (a run cut short by a dying worker is left out). */
function recordedTries(step: OrderStepView | undefined): Try[] {
  if (!step) return [];
  if (step.attemptHistory.length === 0 && step.startedAt && step.finishedAt) {
    const ms = Date.parse(step.finishedAt) - Date.parse(step.startedAt);
    if (step.status === "succeeded") return [{ ms, result: "ok" }];
    if (step.status === "rejected") return [{ ms, result: "reject" }];
  }
  return step.attemptHistory.flatMap((attempt) => {
    const result = outcomeOf(attempt);
    if (!attempt.finishedAt || !result) return [];
    return [{ ms: Date.parse(attempt.finishedAt) - Date.parse(attempt.startedAt), result }];
  });
}

class Rules {
  constructor(
    private readonly order: OrderView,
    private readonly conditions: OrderConditions | null,
  ) {}

  private knobs(service: ServiceName) {
    if (!this.conditions) throw new Unknowable();
    return this.conditions.services[service];
  }

  /** One call's time: its service's latency (the knobs' typical value). */
  callMs(service: ServiceName): number {
    return this.knobs(service).latencyMs;
  }

  /** A try the order never made, as the knobs promise it. */
  private promisedTry(step: SideEffectStep): Try {
    let ms = 0;
    for (const service of CALLS[step]) {
      if (this.knobs(service).down) return { ms, result: "fail" };
      ms += this.callMs(service);
    }
    return { ms, result: "ok" };
  }

  /** Try number `n` (1-based): the order's own while it has one, then the knobs'. */
  private tryOf(step: SideEffectStep, recorded: readonly Try[], n: number): Try {
    return recorded[n - 1] ?? this.promisedTry(step);
  }

  /** How the step ends under `policy`, starting from its first try. */
  run(step: SideEffectStep, policy: RetryPolicy): StepEnd {
    const recorded = recordedTries(this.order.steps.find((candidate) => candidate.name === step));
    let ms = 0;
    for (let n = 1; n <= policy.attempts; n++) {
      const attempt = this.tryOf(step, recorded, n);
      ms += attempt.ms;
      if (attempt.result !== "fail") return { ms, result: attempt.result, captured: false };
      if (n < policy.attempts) ms += policy.backoffMs * 2 ** (n - 1);
    }
    // A fulfillment that failed at the shipment had captured the payment first.
    const captured = step === "fulfillment" && !this.knobs("payment").down;
    return { ms, result: "fail", captured };
  }

  /** The provider calls that undo an order: the shipment's cancellation, then the payment's void or
   * refund (server/orders/compensate.ts). */
  undoMs(effects: Effects): number {
    return (effects.shipped ? this.callMs("shipping") : 0) + this.callMs("payment");
  }

  /** The corrections an undone inline order waits for: the cancellation email for a receipt that
   * went out, the sale's reversal for a recorded sale (server/orders/inline.ts). */
  correctionsMs(effects: Effects): number {
    return (
      (effects.emailed ? this.run("cancellationEmail", INLINE).ms : 0) +
      (effects.recorded ? this.run("saleReversal", INLINE).ms : 0)
    );
  }
}

/** What the side effects had done by the time the order was undone. */
interface Effects {
  emailed: boolean;
  recorded: boolean;
  captured: boolean;
  shipped: boolean;
}

function noted(effects: Effects, step: SideEffectStep, end: StepEnd): void {
  if (end.result !== "ok") {
    if (end.captured) effects.captured = true;
    return;
  }
  if (step === "email") effects.emailed = true;
  if (step === "analytics") effects.recorded = true;
  if (step === "fulfillment") {
    effects.captured = true;
    effects.shipped = true;
  }
}

function failed(
  rules: Rules,
  mode: CheckoutMode,
  at: number,
  step: SideEffectStep,
  effects: Effects,
): Prediction {
  const ms = at + rules.undoMs(effects) + rules.correctionsMs(effects);
  return { mode, outcome: "failed", ms, step, refunded: effects.captured };
}

/** A synchronous checkout (server/orders/inline.ts): side effects one after another, or their
 * chains side by side; a rejection undoes the order where it happens, a failure once all have ended. */
function inline(rules: Rules, mode: CheckoutMode, critical: number): Prediction {
  const effects: Effects = { emailed: false, recorded: false, captured: false, shipped: false };
  if (!MODES[mode].parallel) {
    let at = critical;
    for (const step of PLANNED_SIDE_EFFECTS) {
      const end = rules.run(step, INLINE);
      at += end.ms;
      noted(effects, step, end);
      if (end.result === "fail") return failed(rules, mode, at, step, effects);
      // The order is undone: the steps after this one are skipped.
      if (end.result === "reject") {
        const ms = at + rules.undoMs(effects) + rules.correctionsMs(effects);
        return { mode, outcome: "rejected", ms };
      }
    }
    return { mode, outcome: "confirmed", ms: at, later: null };
  }
  let failure: SideEffectStep | null = null;
  let rejected = false;
  const chain = (step: SideEffectStep): number => {
    const end = rules.run(step, INLINE);
    noted(effects, step, end);
    if (end.result === "fail") failure ??= step;
    if (end.result === "reject") {
      rejected = true;
      // The step's own run undoes the order before its chain ends.
      return end.ms + rules.callMs("payment");
    }
    if (end.result !== "ok") return end.ms;
    return end.ms + Math.max(0, ...stepsAfter(step).map(chain));
  };
  const at = critical + Math.max(0, ...FIRST_SIDE_EFFECTS.map(chain));
  if (failure) return failed(rules, mode, at, failure, effects);
  if (rejected) return { mode, outcome: "rejected", ms: at + rules.correctionsMs(effects) };
  return { mode, outcome: "confirmed", ms: at, later: null };
}

/** An asynchronous checkout: answered after the critical path; the side effects then run from their
 * queues side by side, retried with backoff, a step that fails every attempt parked in the
 * dead-letter set; a rejection cancels the order. */
function queued(rules: Rules, mode: CheckoutMode, critical: number): Prediction {
  const seen: { parked: { ms: number; step: SideEffectStep } | null; cancelledAt: number | null } = {
    parked: null,
    cancelledAt: null,
  };
  const chain = (step: SideEffectStep, from: number): number => {
    const end = rules.run(step, QUEUED);
    const at = from + end.ms;
    if (end.result === "fail") {
      if (!seen.parked || at < seen.parked.ms) seen.parked = { ms: at, step };
      return at;
    }
    if (end.result === "reject") {
      const undone = at + rules.callMs("payment");
      seen.cancelledAt = Math.min(seen.cancelledAt ?? undone, undone);
      return undone;
    }
    return Math.max(at, ...stepsAfter(step).map((next) => chain(next, at)));
  };
  const done = Math.max(critical, ...FIRST_SIDE_EFFECTS.map((step) => chain(step, critical)));
  const { parked, cancelledAt } = seen;
  const later: Later =
    cancelledAt !== null
      ? { kind: "cancelled", ms: cancelledAt }
      : parked
        ? { kind: "dead-lettered", ...parked }
        : { kind: "completed", ms: done };
  return { mode, outcome: "confirmed", ms: critical, later };
}

/** What this order would have come to in `mode`, or null when that cannot be told: the critical path
 * has not finished (or failed: every mode waits for it alike), or a knob it needs was not recorded. */
export function predictInMode(
  order: OrderView,
  mode: CheckoutMode,
  conditions: OrderConditions | null = order.conditions,
): Prediction | null {
  const critical = criticalPathMs(order);
  if (critical === null) return null;
  try {
    const rules = new Rules(order, conditions);
    return MODES[mode].waitsForSideEffects ? inline(rules, mode, critical) : queued(rules, mode, critical);
  } catch (error) {
    if (error instanceof Unknowable) return null;
    throw error;
  }
}

/** The mode an order is compared with: sync (one after another) for a queued order, async for one
 * that waited. */
export function otherMode(mode: CheckoutMode): CheckoutMode | null {
  const waited = MODES[mode].waitsForSideEffects;
  return (
    CHECKOUT_MODES.find((candidate) =>
      waited
        ? !MODES[candidate].waitsForSideEffects
        : MODES[candidate].waitsForSideEffects && !MODES[candidate].parallel,
    ) ?? null
  );
}

/** The other side of the argument, once the order has stopped moving and got past its critical path. */
export function counterfactual(order: OrderView): Prediction | null {
  if (isMoving(order)) return null;
  const mode = otherMode(order.mode);
  return mode ? predictInMode(order, mode) : null;
}
