// The rule of compensation as data (EFFECTS in server/contract/steps.ts) and the providers' state
// machines (server/downstream/machines.ts), as pure units: a side effect cannot be added without its
// undo, and no interleaving of an effect and its undo is accepted by a provider in the wrong order.
import { describe, expect, it } from "vitest";
import {
  COMPENSATION_STEPS,
  CORRECTIONS,
  EFFECTS,
  PROVIDER_UNDOS,
  STEP_NAMES,
  STEPS,
  UNDOS,
} from "../server/contract";
import { next } from "../server/downstream/machines";
import { sale, saleReversed } from "../server/steps/analytics";
import { cancellation, receipt } from "../server/steps/email";
import { capture, shipment } from "../server/steps/fulfillment";

describe("the rule of compensation", () => {
  it("names an undo for every step that leaves an effect at a provider (a verdict leaves none)", () => {
    const verdicts = ["fraud"];
    for (const name of STEP_NAMES) {
      const { service, phase } = STEPS[name];
      if (!service || phase === "compensation" || verdicts.includes(name)) continue;
      expect(EFFECTS[name].length, `${name} leaves an effect at ${service}`).toBeGreaterThan(0);
    }
  });

  it("uses every provider undo and every compensating step, each for one effect", () => {
    expect(PROVIDER_UNDOS.map(({ undo }) => undo).sort()).toEqual(Object.keys(UNDOS).sort());
    expect(CORRECTIONS.map(({ name }) => name).sort()).toEqual([...COMPENSATION_STEPS].sort());
    // A compensating step runs after the step it corrects, as the table says it corrects it.
    for (const { name, corrects } of CORRECTIONS) expect(STEPS[name].after).toBe(corrects);
  });

  it("describes the very calls the steps make", () => {
    const orderId = "order-1";
    const made = [capture(orderId), shipment(orderId), receipt(orderId), sale(orderId)];
    const listed = [...EFFECTS.fulfillment, ...EFFECTS.email, ...EFFECTS.analytics];
    expect(listed.map(({ service, operation }) => `${service}.${operation}`)).toEqual(
      made.map(({ service, operation }) => `${service}.${operation}`),
    );
    // Corrections call the corrected effect's operation under keys of their own.
    expect(cancellation(orderId).idempotencyKey).not.toBe(receipt(orderId).idempotencyKey);
    expect(saleReversed(orderId).idempotencyKey).not.toBe(sale(orderId).idempotencyKey);
  });

  it("lets a later effect's undo win on the same step: a capture is refunded, not voided", () => {
    const onPayment = PROVIDER_UNDOS.filter(({ undo }) => UNDOS[undo].step === "payment").map(
      ({ undo }) => undo,
    );
    expect(onPayment).toEqual(["void", "refund"]);
  });
});

/** Runs operations through a machine from nothing; the states after each, or "refused (state)". */
function run(service: "payment" | "shipping", operations: string[]): string[] {
  let state: string | null = null;
  return operations.map((operation) => {
    const moved = next(service, operation, state);
    if ("refused" in moved) return `refused (${moved.refused})`;
    state = moved.to;
    return moved.to;
  });
}

describe("the gateway's state machine, per authorization", () => {
  it("goes authorized → captured → refunded, or authorized → voided", () => {
    expect(run("payment", ["authorize", "capture", "refund"])).toEqual([
      "authorized",
      "captured",
      "refunded",
    ]);
    expect(run("payment", ["authorize", "void"])).toEqual(["authorized", "voided"]);
  });

  it("refuses a capture after a void, a void after a capture, a refund before a capture", () => {
    expect(run("payment", ["authorize", "void", "capture"])).toEqual([
      "authorized",
      "voided",
      "refused (voided)",
    ]);
    expect(run("payment", ["authorize", "capture", "void"])).toEqual([
      "authorized",
      "captured",
      "refused (captured)",
    ]);
    expect(run("payment", ["authorize", "refund"])).toEqual(["authorized", "refused (authorized)"]);
    expect(run("payment", ["authorize", "capture", "refund", "refund"]).at(-1)).toBe("refused (refunded)");
  });

  it("lets a void come before the authorization lands, and then refuses the authorization", () => {
    expect(run("payment", ["void", "authorize"])).toEqual(["voided", "refused (voided)"]);
  });
});

describe("the carrier's state machine, per shipment", () => {
  it("ships once, and cancels a shipment booked or not", () => {
    expect(run("shipping", ["ship", "cancel"])).toEqual(["shipped", "cancelled"]);
    expect(run("shipping", ["cancel"])).toEqual(["cancelled"]);
  });

  it("refuses to ship after a cancellation, and to ship twice", () => {
    expect(run("shipping", ["cancel", "ship"])).toEqual(["cancelled", "refused (cancelled)"]);
    expect(run("shipping", ["ship", "ship"])).toEqual(["shipped", "refused (shipped)"]);
  });

  it("keeps no state for providers without one (a receipt is a receipt)", () => {
    expect(next("email", "send", null)).toEqual({ to: "none" });
  });
});
