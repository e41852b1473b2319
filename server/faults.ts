// Fault points: named places in the order path where a test can step in, to drive one interleaving
// on purpose instead of hoping a sleep lands in the right millisecond. A test registers a hook (hold a
// call on a latch, throw as a lost connection would); in every other process no hook is registered
// and a fault point costs one map look-up.

export interface FaultPoints {
  /** The checkout's confirmation has committed; its answer has not reached the checkout yet. */
  "checkout:confirmed": { orderId: string };
  /** A synchronous checkout has run every side effect; the write that marks it answered is next. */
  "checkout:answering": { orderId: string };
  /** A provider has done a call's work and is about to record it (and move its state machine). */
  "provider:answering": { service: string; operation: string };
  /** A side effect has its outcome; the write that records it is next. */
  "step:outcome": { orderId: string; step: string };
  /** A developer's discard has claimed the order; the dead letter's job is not removed yet. */
  "discard:claimed": { orderId: string };
  /** The first caller waiting for a provider's slot asks again because no release woke it in time. */
  "capacity:recheck": { service: string };
}

export type FaultPoint = keyof FaultPoints;
type Hook<Name extends FaultPoint> = (context: FaultPoints[Name]) => void | Promise<void>;

const hooks = new Map<FaultPoint, Hook<FaultPoint>>();

/** Runs the hook registered at `name`, if any: it may wait (a latch) or throw (a fault). */
export async function faultPoint<Name extends FaultPoint>(
  name: Name,
  context: FaultPoints[Name],
): Promise<void> {
  const hook = hooks.get(name) as Hook<Name> | undefined;
  if (hook) await hook(context);
}

/** Registers a hook at `name` (one at a time); returns what removes it. */
export function onFaultPoint<Name extends FaultPoint>(name: Name, hook: Hook<Name>): () => void {
  if (hooks.has(name)) throw new Error(`a hook is already registered at ${name}`);
  hooks.set(name, hook as Hook<FaultPoint>);
  return () => {
    hooks.delete(name);
  };
}

/** The chaos soak's own fault (CHAOS_LOST_ANSWERS, server/config.ts): loses the answer of this share of
 * checkout confirmations after their commit, exactly as a connection cut at that instant does. */
export function loseConfirmationAnswers(share: number): void {
  if (share <= 0) return;
  onFaultPoint("checkout:confirmed", () => {
    if (Math.random() < share) throw new Error("Connection terminated unexpectedly (CHAOS_LOST_ANSWERS)");
  });
}
