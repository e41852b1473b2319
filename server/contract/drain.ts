// How fast a queue can drain, by Little's law: the calls its consumers keep in flight (capped by the
// tightest provider's capacity) over how long one job's calls take. Shared by the Rush-hour lab (its
// words) and `npm run bench:load` (its drain target), so both judge a drain against the same bound.
import type { ServiceSettings } from "./services";
import { EFFECTS, type ServiceName, type SideEffectStep, STEPS } from "./steps";

/** The providers a queue's job calls, one after the other (fulfillment: payment's capture, then the
 * shipment), from the step's own service and the effects it leaves. */
export function providersOf(step: SideEffectStep): ServiceName[] {
  const own: ServiceName | null = STEPS[step].service;
  const services: ServiceName[] = EFFECTS[step].map((effect) => effect.service);
  return [...new Set(own === null ? services : [...services, own])];
}

export interface QueueBound {
  /** Calls in flight at most: the consumers, or fewer if a provider's capacity caps them. */
  inFlight: number;
  /** The provider whose capacity caps the calls in flight (null: the consumers do). */
  cappedBy: ServiceName | null;
  /** One job's provider calls, one after the other, at their latency knobs. */
  calls: { service: ServiceName; latencyMs: number }[];
  latencyMs: number;
  /** Jobs per second the queue can finish: in flight ÷ latency; null when the providers answer at once
   * (no bound from latency). */
  boundPerSecond: number | null;
}

/** The bound of `step`'s queue with `consumers` consumers (over every worker process) under these knobs. */
export function queueBound(
  step: SideEffectStep,
  services: Record<ServiceName, Pick<ServiceSettings, "latencyMs" | "capacity">>,
  consumers: number,
): QueueBound {
  const calls = providersOf(step).map((service) => ({ service, latencyMs: services[service].latencyMs }));
  const tightest = calls
    .map(({ service }) => ({ service, capacity: services[service].capacity }))
    .sort((a, b) => a.capacity - b.capacity)[0];
  const cappedBy = tightest && tightest.capacity < consumers ? tightest.service : null;
  const inFlight = cappedBy && tightest ? tightest.capacity : consumers;
  const latencyMs = calls.reduce((sum, call) => sum + call.latencyMs, 0);
  return {
    inFlight,
    cappedBy,
    calls,
    latencyMs,
    boundPerSecond: latencyMs > 0 ? inFlight / (latencyMs / 1000) : null,
  };
}
