// Where to look behind an order: its side-effect jobs in bull-board (/dev/jobs, by queue and job id)
// and, while one of its steps waits there, the dead-letter set in the developer console. Shown only
// when the developer tools are on (the API then names the jobs).
"use client";

import { type OrderView, STEPS } from "@/server/contract";
import type { RelatedToOrder } from "../_lib/trpc";
import styles from "./OrderDetails.module.css";

export function BehindTheScenes({
  order,
  related,
}: {
  order: OrderView;
  related: RelatedToOrder | undefined;
}) {
  const jobs = related?.jobs ?? [];
  if (jobs.length === 0) return null;
  const parked = order.steps.filter((step) => step.status === "failed" && step.deadLetteredAt);
  return (
    <nav className={`card ${styles.behind}`} aria-label="Behind the scenes">
      <h2 className={styles.behindTitle}>Behind the scenes</h2>
      <p className="hint">This order&rsquo;s jobs in the queues, as BullMQ keeps them (bull-board):</p>
      <ul className={styles.behindLinks}>
        {jobs.map((job) => (
          <li key={job.jobId}>
            {/* A plain link: /dev/jobs is served by bull-board, not by the app's router. */}
            <a href={`/dev/jobs/queue/${job.step}/${job.jobId}`}>{STEPS[job.step].label} job</a>
          </li>
        ))}
      </ul>
      {parked.length > 0 && (
        <p className={styles.behindParked}>
          {parked.map((step) => STEPS[step.name].label).join(" and ")}{" "}
          {parked.length === 1 ? "waits" : "wait"} in the dead-letter set:{" "}
          <a href="/dev#dead-letters">retry or discard it in the developer console</a>.
        </p>
      )}
    </nav>
  );
}
