// What the shopper sees while the Purchase request is open: a spinner, the seconds ticking, and the
// steps completing live (pushed over socket.io). In a synchronous checkout the spinner pays for every
// slow dependency; in an asynchronous one it waits only for the critical path. When the checkout is
// refused the card stays, stopped, with every step as it ended (the failure, and what was undone).
"use client";

import { MODES, PLANNED_STEPS, STEP_NAMES, STEPS, type StepName, stepInFlight } from "@/server/contract";
import { formatDuration } from "../_lib/format";
import { isRolledBack, stepStatusLabel } from "../_lib/labels";
import { useNow } from "../_lib/useNow";
import type { Watching } from "../_lib/usePurchase";
import styles from "./CheckoutProgress.module.css";

export function CheckoutProgress({ mode, startedAt, order, live, endedAt, resumed = false }: Watching) {
  const ticking = useNow(endedAt === null);
  const now = endedAt ?? ticking;
  const stepOf = (name: StepName) => order?.steps.find((step) => step.name === name);

  /** "Done · 790 ms", "Running · 1.2 s": each step's share of the wait, so the stacking shows. */
  const stepText = (name: StepName): string => {
    const step = stepOf(name);
    const later = !MODES[mode].waitsForSideEffects && STEPS[name].phase !== "critical";
    if (later && (!step || step.status === "pending")) return "Later, not waited for";
    if (!step) return live || endedAt !== null ? "Waiting" : "…";
    const label = order ? stepStatusLabel(order, step) : "";
    if (!step.startedAt) return label;
    const end =
      stepInFlight(step) || !step.finishedAt
        ? endedAt === null
          ? now
          : endedAt
        : Date.parse(step.finishedAt);
    return `${label} · ${formatDuration(Math.max(0, end - Date.parse(step.startedAt)))}`;
  };

  return (
    <section
      className={`${styles.progress} card`}
      aria-label={endedAt === null ? "Placing your order" : "How the checkout ended"}
      aria-busy={endedAt === null}
      data-ended={endedAt !== null || undefined}
    >
      <div className={styles.progressHead}>
        <span className={styles.spinner} data-stopped={endedAt !== null || undefined} aria-hidden="true" />
        <div>
          <p className={styles.progressTitle}>
            {endedAt === null ? "Placing your order…" : "The checkout did not go through"}
          </p>
          <p className={styles.progressElapsed}>
            {endedAt === null ? "Waiting for " : "You waited "}
            <span className="tabular">{formatDuration(now - startedAt)}</span>
            {endedAt === null ? "" : " for this answer"}
          </p>
        </div>
      </div>
      <p className="hint">
        {MODES[mode].label} checkout: {MODES[mode].explains}
      </p>
      {resumed && (
        <p className="hint" data-testid="resumed">
          The page was reloaded: this is the checkout you had started, found again by its idempotency key. It
          was not sent twice.
        </p>
      )}
      {!live && endedAt === null && (
        <p className="hint">
          Live step updates are not available right now; the order page will show every step.
        </p>
      )}
      <ol className={styles.progressSteps} aria-label="Checkout steps">
        {STEP_NAMES.filter((name) => PLANNED_STEPS.includes(name) || stepOf(name)).map((name) => (
          <li
            key={name}
            data-status={
              order && isRolledBack(order, { name, status: stepOf(name)?.status ?? "pending" })
                ? "compensated"
                : (stepOf(name)?.status ?? "unknown")
            }
            aria-label={STEPS[name].label}
          >
            <span className={styles.stepDot} aria-hidden="true" />
            <span className={styles.progressStepLabel}>{STEPS[name].label}</span>
            <span className={`${styles.progressStepStatus} tabular`}>{stepText(name)}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}
