// What the shopper sees while the Purchase request is open: a spinner, the seconds ticking, and the
// steps completing live (pushed over socket.io). In a synchronous checkout the spinner pays for every
// slow dependency; in an asynchronous one it waits only for the critical path.
"use client";

import { type CheckoutMode, type OrderView, STEP_NAMES, STEPS, type StepStatus } from "@/server/contract";
import { formatDuration } from "../_lib/format";
import { STEP_STATUS_LABELS } from "../_lib/labels";
import { useNow } from "../_lib/useNow";

interface Props {
  mode: CheckoutMode;
  startedAt: number;
  order: OrderView | null;
  /** False when the live connection could not watch this checkout: the steps are unknown until it answers. */
  live: boolean;
}

const WAITING_FOR: Record<CheckoutMode, string> = {
  async: "Async checkout: the request waits for the critical path only. Everything else is queued for later.",
  sync: "Sync checkout: the spinner pays for every slow dependency, one after another (latency stacking).",
  "sync-parallel": "Sync-parallel checkout: the side effects run at once, and the spinner waits for the slowest.",
};

export function CheckoutProgress({ mode, startedAt, order, live }: Props) {
  const now = useNow(true);
  const statusOf = (name: (typeof STEP_NAMES)[number]): StepStatus | null =>
    order?.steps.find((step) => step.name === name)?.status ?? null;

  return (
    <section className="progress card" aria-label="Placing your order" aria-busy="true">
      <div className="progress-head">
        <span className="spinner" aria-hidden="true" />
        <div>
          <p className="progress-title">Placing your order…</p>
          <p className="progress-elapsed">
            Waiting for <span className="tabular">{formatDuration(now - startedAt)}</span>
          </p>
        </div>
      </div>
      <p className="hint">{WAITING_FOR[mode]}</p>
      <ol className="progress-steps" aria-label="Checkout steps">
        {STEP_NAMES.map((name) => {
          const status = statusOf(name);
          const later = mode === "async" && STEPS[name].phase === "sideEffect";
          return (
            <li key={name} data-status={status ?? "unknown"} aria-label={STEPS[name].label}>
              <span className="step-dot" aria-hidden="true" />
              <span className="progress-step-label">{STEPS[name].label}</span>
              <span className="progress-step-status">
                {later && (status === null || status === "pending")
                  ? "Later, not waited for"
                  : status
                    ? STEP_STATUS_LABELS[status]
                    : live
                      ? "Waiting"
                      : "…"}
              </span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
