// The checkout's steps, defined once. The API, the workers, the queues and the UI all read this
// table: the order of the keys is the order a shopper sees them in.
//
// Compensation, completed: fraud screening may reject an order after its receipt went out and its sale
// was recorded (async mode answers first; sync-parallel runs them side by side). Undoing the critical
// path (stock back, payment voided) is not enough then: the shopper holds a receipt, the numbers hold a
// sale. Two compensating side effects correct that. They are steps like the others (a queue each,
// retried with backoff, idempotent by job id and provider key, dead-lettered visibly, run inline by a
// synchronous checkout), with two differences: an order gets one only once it is cancelled or failed
// *and* the step it corrects (`after`) has succeeded, so a receipt skipped because the order was
// cancelled first needs no correction; and it runs on an undone order, never on a live one.
import { z } from "zod";
import { closedList } from "./lists";

export const SERVICE_NAMES = ["inventory", "payment", "fraud", "email", "analytics", "shipping"] as const;
export const serviceNameSchema = z.enum(SERVICE_NAMES);
export type ServiceName = z.infer<typeof serviceNameSchema>;

interface StepDefinition {
  /** critical: the checkout request always waits for it. sideEffect: the mode decides. compensation:
   * a side effect that corrects an earlier one once the order is undone (the mode decides as well). */
  phase: "critical" | "sideEffect" | "compensation";
  /** The simulated downstream service the step calls, if any. */
  service: ServiceName | null;
  label: string;
  /** One line for the UI: what this step does and why it sits where it sits. */
  explains: string;
  /** A step that must have succeeded before this one may start (for a compensation: the step it
   * corrects). */
  after: StepName | null;
  /** What giving up on the step's dead letter (the console's Discard) means for its order. skip: the
   * order stands without it (a receipt never sent). cancel: the order cannot stand without it (an order
   * never screened must not ship; one never fulfilled must not keep the shopper's money held), so the
   * order fails and is compensated. */
  onDiscard: "skip" | "cancel";
}

export const { names: STEP_NAMES, schema: stepNameSchema } = closedList([
  "inventory",
  "payment",
  "order",
  "fraud",
  "email",
  "analytics",
  "fulfillment",
  "cancellationEmail",
  "saleReversal",
]);
export type StepName = z.infer<typeof stepNameSchema>;

export const STEPS = {
  inventory: {
    phase: "critical",
    service: "inventory",
    label: "Reserve stock",
    explains: "Atomically takes the items off the shelf so two shoppers can never buy the last one.",
    after: null,
    onDiscard: "skip",
  },
  payment: {
    phase: "critical",
    service: "payment",
    label: "Authorize payment",
    explains: "Asks the gateway to hold the money (not take it yet), with one idempotency key per order.",
    after: "inventory",
    onDiscard: "skip",
  },
  order: {
    phase: "critical",
    service: null,
    label: "Confirm order",
    explains: "Writes the confirmed order, and the messages for later work, in one transaction.",
    after: "payment",
    onDiscard: "skip",
  },
  fraud: {
    phase: "sideEffect",
    service: "fraud",
    label: "Fraud screening",
    explains: "May reject a placed order; then the authorization is voided and the stock released.",
    after: null,
    onDiscard: "cancel",
  },
  email: {
    phase: "sideEffect",
    service: "email",
    label: "Receipt email",
    explains: "Sends the receipt exactly once, however many times the job runs.",
    after: null,
    onDiscard: "skip",
  },
  analytics: {
    phase: "sideEffect",
    service: "analytics",
    label: "Analytics",
    explains: "Records the sale. Nobody should wait for this, yet it is still recorded.",
    after: null,
    onDiscard: "skip",
  },
  fulfillment: {
    phase: "sideEffect",
    service: "shipping",
    label: "Fulfillment",
    explains: "After fraud screening passes: captures the payment and books a shipment.",
    after: "fraud",
    onDiscard: "cancel",
  },
  cancellationEmail: {
    phase: "compensation",
    service: "email",
    label: "Cancellation email",
    explains:
      "Tells the shopper holding a receipt that the order was cancelled; sent once, however many times the job runs.",
    after: "email",
    onDiscard: "skip",
  },
  saleReversal: {
    phase: "compensation",
    service: "analytics",
    label: "Sale reversal",
    explains: "Takes the recorded sale back out of the numbers: the order no longer stands.",
    after: "analytics",
    onDiscard: "skip",
  },
} as const satisfies Record<StepName, StepDefinition>;

export const CRITICAL_STEPS = STEP_NAMES.filter((name) => STEPS[name].phase === "critical");

/** The steps that are not on the critical path: the mode decides whether the request waits for them.
 * Each has a queue of its own. */
export type SideEffectStep = {
  [Name in StepName]: (typeof STEPS)[Name]["phase"] extends "critical" ? never : Name;
}[StepName];
/** The side effects that correct another one once an order is undone. */
export type CompensationStep = {
  [Name in StepName]: (typeof STEPS)[Name]["phase"] extends "compensation" ? Name : never;
}[StepName];

const isSideEffect = (name: StepName): name is SideEffectStep => STEPS[name].phase !== "critical";
const isCompensation = (name: StepName): name is CompensationStep => STEPS[name].phase === "compensation";

/** Every side effect, compensations last: the table's order, except that a step always comes after the
 * one it waits for (`after`), whatever order the table lists them in. */
export const SIDE_EFFECT_STEPS: readonly SideEffectStep[] = inDependencyOrder(
  STEP_NAMES.filter(isSideEffect),
);
export const sideEffectStepSchema = z.enum(SIDE_EFFECT_STEPS);

/** The side effects every order plans, in the order a synchronous checkout runs them. */
export const PLANNED_SIDE_EFFECTS: readonly SideEffectStep[] = SIDE_EFFECT_STEPS.filter(
  (name) => !isCompensation(name),
);
/** The compensating side effects, added to an order only when it needs them. */
export const COMPENSATION_STEPS: readonly CompensationStep[] = STEP_NAMES.filter(isCompensation);
/** The steps a new order starts with (all pending but what the checkout has done already). */
export const PLANNED_STEPS: readonly StepName[] = STEP_NAMES.filter((name) => !isCompensation(name));

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
export const FIRST_SIDE_EFFECTS = PLANNED_SIDE_EFFECTS.filter((name) => STEPS[name].after === null);

/** Planned side effects that start once `step` has succeeded (a compensation starts only once the
 * order is undone: see server/orders/change.ts). */
export function stepsAfter(step: StepName): SideEffectStep[] {
  return PLANNED_SIDE_EFFECTS.filter((name) => STEPS[name].after === step);
}

export const { names: STEP_STATUSES, schema: stepStatusSchema } = closedList([
  "pending",
  "running",
  "retrying",
  "succeeded",
  /** The step ran and said no (fraud screening rejecting an order): not a fault, no retry. */
  "rejected",
  "failed",
  "skipped",
  /** Undo owed: the order was undone and this step's provider effect (an authorization, a capture, a
   * shipment) is still to be voided, refunded or cancelled. Recorded in the statement that undoes the
   * order, before the provider is asked, so a failed undo is retried (see server/orders/compensate.ts). */
  "compensating",
  "compensated",
]);
export type StepStatus = z.infer<typeof stepStatusSchema>;

/** A step whose provider effect is still to be undone (see "compensating" above). */
export const UNDO_OWED: StepStatus = "compensating";

/** A step in one of these statuses will not change again on its own. */
export const SETTLED_STEP_STATUSES: readonly StepStatus[] = [
  "succeeded",
  "rejected",
  "failed",
  "skipped",
  "compensated",
];

/** The provider-side undos of an undone order (server/orders/compensate.ts): the call each makes, the
 * step it is owed on, and what that step says while the undo is owed and once the provider has
 * answered. The calls are keyed by the order id, as the effects they undo are. */
export const UNDOS = {
  void: {
    step: "payment",
    service: "payment",
    operation: "void",
    owed: "Voiding the authorization",
    done: "Authorization voided",
  },
  refund: {
    step: "payment",
    service: "payment",
    operation: "refund",
    owed: "Refunding the payment",
    done: "Payment refunded",
  },
  cancelShipment: {
    step: "fulfillment",
    service: "shipping",
    operation: "cancel",
    owed: "Cancelling the shipment",
    done: "Shipment cancelled",
  },
} as const satisfies Record<
  string,
  { step: StepName; service: ServiceName; operation: string; owed: string; done: string }
>;
export type Undo = keyof typeof UNDOS;

/** How an effect is taken back: `restock` (the stock goes back in the statement that undoes the
 * order), a provider undo (UNDOS: owed on a step, then asked of the provider), or a compensating step
 * (a side effect of its own, queued like the others). */
export type UndoBy = "restock" | Undo | CompensationStep;

export interface Effect {
  /** Where the effect lands, as the provider's ledger records it. */
  service: ServiceName;
  operation: string;
  undo: UndoBy;
}

/**
 * THE RULE OF COMPENSATION: every effect each step leaves behind, and the undo it is owed once its
 * order is undone. Whatever order things happen in, an effect that may have landed on an undone order
 * owes its undo: the statement that undoes the order makes the undo of every effect owed whose step
 * succeeded, is running (its effect may land any moment) or whose effect the provider's ledger holds
 * (server/orders/change.ts); a correction falls due in the statement that records a receipt or a sale
 * on an undone order; and a provider refuses an effect that comes after its undo (see
 * server/downstream/machines.ts). A step with a provider and no entry here cannot be undone: the
 * undo-rule test fails for a new side effect that forgets its undo.
 */
export const EFFECTS = {
  inventory: [{ service: "inventory", operation: "reserve", undo: "restock" }],
  payment: [{ service: "payment", operation: "authorize", undo: "void" }],
  order: [],
  /** A verdict: nothing to take back (a rejection is what undoes the order). */
  fraud: [],
  email: [{ service: "email", operation: "send", undo: "cancellationEmail" }],
  analytics: [{ service: "analytics", operation: "track", undo: "saleReversal" }],
  /** A later effect's undo on the same step replaces an earlier one's: a captured payment is refunded,
   * not voided. */
  fulfillment: [
    { service: "payment", operation: "capture", undo: "refund" },
    { service: "shipping", operation: "ship", undo: "cancelShipment" },
  ],
  cancellationEmail: [],
  saleReversal: [],
} as const satisfies Record<StepName, readonly Effect[]>;

const isProviderUndo = (undo: UndoBy): undo is Undo => undo in UNDOS;
const isCorrection = (undo: UndoBy): undo is CompensationStep =>
  (COMPENSATION_STEPS as readonly string[]).includes(undo);
const effectsOf = (step: StepName): readonly Effect[] => EFFECTS[step];

/** The provider undos, each with the step whose effect it undoes, in the table's order (an effect
 * listed later on the same step wins: see EFFECTS). */
export const PROVIDER_UNDOS: readonly { undo: Undo; by: StepName; effect: Effect }[] = STEP_NAMES.flatMap(
  (by) =>
    effectsOf(by).flatMap(({ undo, ...effect }) =>
      isProviderUndo(undo) ? [{ undo, by, effect: { ...effect, undo } }] : [],
    ),
);

/** The compensating steps, each with the step whose effect it corrects. */
export const CORRECTIONS: readonly { name: CompensationStep; corrects: StepName }[] = STEP_NAMES.flatMap(
  (corrects) =>
    effectsOf(corrects).flatMap(({ undo }) => (isCorrection(undo) ? [{ name: undo, corrects }] : [])),
);
