// The other side of the argument, in one line under the waterfall: what this checkout would have come
// to in the other mode under the same knobs (app/_lib/counterfactual.ts), failure included, and a link
// to a real order of that mode that ran under them, when this browser placed one.
"use client";

import Link from "next/link";
import { MODES, type OrderView, SERVICES, STEPS, timeToAnswer } from "@/server/contract";
import { counterfactual, type Prediction } from "../_lib/counterfactual";
import { formatDuration } from "../_lib/format";
import type { RelatedToOrder } from "../_lib/trpc";
import styles from "./Waterfall.module.css";

const about = (ms: number) => <strong>≈ {formatDuration(ms)}</strong>;

function failedStepWords(prediction: Extract<Prediction, { outcome: "failed" }>, order: OrderView): string {
  const service = STEPS[prediction.step].service;
  return service && order.conditions?.services[service].down
    ? `the ${SERVICES[service].title.toLowerCase()} was down`
    : `${STEPS[prediction.step].label.toLowerCase()} kept failing`;
}

function Words({ prediction, order }: { prediction: Prediction; order: OrderView }) {
  const mode = MODES[prediction.mode].label.toLowerCase();
  const answered = timeToAnswer(order);
  if (prediction.outcome === "failed") {
    return (
      <>
        In {mode} mode this checkout would have <strong>failed</strong> after {about(prediction.ms)},{" "}
        {prediction.refunded ? "charged, then refunded" : "nothing bought"}:{" "}
        {failedStepWords(prediction, order)}, and a request that waits for every side effect fails with any of
        them.
      </>
    );
  }
  if (prediction.outcome === "rejected") {
    return (
      <>
        In {mode} mode this checkout would have been <strong>rejected</strong> after {about(prediction.ms)}:
        the request waits for fraud screening&rsquo;s verdict, so there would have been no confirmation at
        all.
      </>
    );
  }
  if (MODES[prediction.mode].waitsForSideEffects) {
    return (
      <>
        In {mode} mode you would have waited {about(prediction.ms)}: stock and payment, then every side effect
        one after another{answered !== null ? `, instead of ${formatDuration(answered)}` : ""}.
      </>
    );
  }
  const later = prediction.later;
  return (
    <>
      In {mode} mode you would have had your answer after {about(prediction.ms)}: stock and payment only.{" "}
      {later?.kind === "dead-lettered" ? (
        <>
          The order would have stood, but the {STEPS[later.step].label.toLowerCase()} would have failed every
          attempt and waited in the dead-letter set from {about(later.ms)} until someone retried it.
        </>
      ) : later?.kind === "cancelled" ? (
        <>
          Then, at {about(later.ms)}, fraud screening would have rejected it and the order would have been
          cancelled on its page.
        </>
      ) : (
        <>
          The side effects would have finished while you were free{later ? <>, at {about(later.ms)}</> : null}
          .
        </>
      )}
    </>
  );
}

export function OtherModeLine({ order, related }: { order: OrderView; related: RelatedToOrder | undefined }) {
  const prediction = counterfactual(order);
  if (!prediction) return null;
  const twin = related?.sameConditions.find((candidate) => candidate.mode === prediction.mode);
  return (
    <p className={styles.counterfactual} data-testid="counterfactual" data-outcome={prediction.outcome}>
      <Words prediction={prediction} order={order} />{" "}
      {twin ? (
        <Link href={`/orders/${twin.id}`}>
          See a real {MODES[twin.mode].label.toLowerCase()} order under the same conditions
        </Link>
      ) : (
        <span className="muted">
          (Worked out from this order&rsquo;s own steps and the knobs it ran under.)
        </span>
      )}
    </p>
  );
}
