// The simulated providers keep state, as real ones do: a gateway knows whether an authorization was
// captured, voided or refunded, a carrier whether a shipment was cancelled. Each operation moves its
// subject (the order's authorization, the order's shipment) from one of the states it allows to the
// next, and the provider refuses it from any other: a captured payment cannot be voided (refund it), a
// voided one cannot be captured, a cancelled shipment cannot ship. Whichever of two racing calls comes
// second is refused, so no interleaving of a fulfillment and a compensation can leave money or goods
// behind (see server/orders/compensate.ts). Pure: the simulation (./simulate.ts) applies it in the
// statement that records the call, and the invariant checker replays every ledger through it.
import type { ServiceName } from "../contract";

interface Transition {
  /** States the operation may start from; null: the provider has never heard of the subject. */
  from: readonly (string | null)[];
  to: string;
}

export const MACHINES = {
  payment: {
    authorize: { from: [null], to: "authorized" },
    capture: { from: ["authorized"], to: "captured" },
    // A void before the authorization lands (a checkout cut off mid-call) leaves it refused.
    void: { from: [null, "authorized"], to: "voided" },
    refund: { from: ["captured"], to: "refunded" },
  },
  shipping: {
    ship: { from: [null], to: "shipped" },
    // A cancellation before the shipment is booked stops it from being booked.
    cancel: { from: [null, "shipped"], to: "cancelled" },
  },
} as const satisfies Partial<Record<ServiceName, Record<string, Transition>>>;

/** The transition an operation makes, or null when the provider keeps no state for it. */
export function transitionOf(service: ServiceName, operation: string): Transition | null {
  const machine: Record<string, Transition> | undefined = (
    MACHINES as Partial<Record<ServiceName, Record<string, Transition>>>
  )[service];
  return machine?.[operation] ?? null;
}

/** The state after `operation`, or a refusal naming the state that refused it. */
export function next(
  service: ServiceName,
  operation: string,
  state: string | null,
): { to: string } | { refused: string } {
  const transition = transitionOf(service, operation);
  if (!transition) return { to: state ?? "none" };
  return transition.from.includes(state) ? { to: transition.to } : { refused: state ?? "unknown" };
}
