// How a call to a simulated provider fails, in one type every caller can tell apart: the outage switch,
// an error (or a decline), the caller's deadline, or a state that does not allow the operation.
import { SERVICES, type ServiceName } from "../contract";

export class DownstreamError extends Error {
  constructor(
    readonly service: ServiceName,
    /** down: the outage switch; error: a failed (for payment: declined) call; deadline: cut off by
     * the caller's deadline before the provider did anything; refused: the subject's state does not
     * allow the operation (see ./machines.ts; `state` says which state refused it). */
    readonly kind: "down" | "error" | "deadline" | "refused",
    message: string,
    readonly state: string | null = null,
  ) {
    super(message);
    this.name = "DownstreamError";
  }
}

export function deadlinePassed(service: ServiceName): DownstreamError {
  return new DownstreamError(
    service,
    "deadline",
    `${SERVICES[service].title} did not answer before the checkout's deadline`,
  );
}
