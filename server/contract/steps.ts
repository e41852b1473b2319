// The checkout's steps, defined once. The API, the workers, the queues and the UI all read this
// table: the order of the keys is the order a shopper sees them in.
import { z } from "zod";

export const SERVICE_NAMES = ["inventory", "payment", "fraud", "email", "analytics", "shipping"] as const;
export const serviceNameSchema = z.enum(SERVICE_NAMES);
export type ServiceName = z.infer<typeof serviceNameSchema>;

interface StepDefinition {
  /** critical: the checkout request always waits for it. sideEffect: the mode decides. */
  phase: "critical" | "sideEffect";
  /** The simulated downstream service the step calls, if any. */
  service: ServiceName | null;
  label: string;
  /** One line for the UI: what this step does and why it sits where it sits. */
  explains: string;
  /** A step that must have succeeded before this one may start. */
  after: StepName | null;
}

export const STEP_NAMES = [
  "inventory",
  "payment",
  "order",
  "fraud",
  "email",
  "analytics",
  "fulfillment",
] as const;
export const stepNameSchema = z.enum(STEP_NAMES);
export type StepName = z.infer<typeof stepNameSchema>;

export const STEPS = {
  inventory: {
    phase: "critical",
    service: "inventory",
    label: "Reserve stock",
    explains: "Atomically takes the items off the shelf so two shoppers can never buy the last one.",
    after: null,
  },
  payment: {
    phase: "critical",
    service: "payment",
    label: "Authorize payment",
    explains: "Asks the gateway to hold the money (not take it yet), with one idempotency key per order.",
    after: "inventory",
  },
  order: {
    phase: "critical",
    service: null,
    label: "Confirm order",
    explains: "Writes the confirmed order, and the messages for later work, in one transaction.",
    after: "payment",
  },
  fraud: {
    phase: "sideEffect",
    service: "fraud",
    label: "Fraud screening",
    explains: "May reject a placed order; then the authorization is voided and the stock released.",
    after: null,
  },
  email: {
    phase: "sideEffect",
    service: "email",
    label: "Receipt email",
    explains: "Sends the receipt exactly once, however many times the job runs.",
    after: null,
  },
  analytics: {
    phase: "sideEffect",
    service: "analytics",
    label: "Analytics",
    explains: "Records the sale. Nobody should wait for this, yet it is still recorded.",
    after: null,
  },
  fulfillment: {
    phase: "sideEffect",
    service: "shipping",
    label: "Fulfillment",
    explains: "After fraud screening passes: captures the payment and books a shipment.",
    after: "fraud",
  },
} as const satisfies Record<StepName, StepDefinition>;

export const CRITICAL_STEPS = STEP_NAMES.filter((name) => STEPS[name].phase === "critical");

/** The steps whose phase is "sideEffect": the mode decides whether the request waits for them. */
export type SideEffectStep = {
  [Name in StepName]: (typeof STEPS)[Name]["phase"] extends "sideEffect" ? Name : never;
}[StepName];

const isSideEffect = (name: StepName): name is SideEffectStep => STEPS[name].phase === "sideEffect";

/** The side effects in the order a synchronous checkout runs them: the table's order, except that a
 * step always comes after the one it waits for (`after`), whatever order the table lists them in. */
export const SIDE_EFFECT_STEPS: readonly SideEffectStep[] = inDependencyOrder(
  STEP_NAMES.filter(isSideEffect),
);
export const sideEffectStepSchema = z.enum(SIDE_EFFECT_STEPS);

function inDependencyOrder(names: SideEffectStep[]): SideEffectStep[] {
  const ordered: SideEffectStep[] = [];
  const visit = (name: SideEffectStep) => {
    if (ordered.includes(name)) return;
    const before: StepName | null = STEPS[name].after;
    if (before && isSideEffect(before)) visit(before);
    ordered.push(name);
  };
  for (const name of names) visit(name);
  return ordered;
}

/** Side effects that may start as soon as the order is confirmed (nothing before them). */
export const FIRST_SIDE_EFFECTS = SIDE_EFFECT_STEPS.filter((name) => STEPS[name].after === null);

/** Side effects that start once `step` has succeeded. */
export function stepsAfter(step: StepName): SideEffectStep[] {
  return SIDE_EFFECT_STEPS.filter((name) => STEPS[name].after === step);
}

export const STEP_STATUSES = [
  "pending",
  "running",
  "retrying",
  "succeeded",
  /** The step ran and said no (fraud screening rejecting an order): not a fault, no retry. */
  "rejected",
  "failed",
  "skipped",
  "compensated",
] as const;
export const stepStatusSchema = z.enum(STEP_STATUSES);
export type StepStatus = z.infer<typeof stepStatusSchema>;

/** A step in one of these statuses will not change again on its own. */
export const SETTLED_STEP_STATUSES: readonly StepStatus[] = [
  "succeeded",
  "rejected",
  "failed",
  "skipped",
  "compensated",
];
