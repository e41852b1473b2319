// The dead-letter set: side-effect jobs that failed every retry and now wait for a person. Fix the
// cause, then Retry (the steps are idempotent, so a replay never sends a second email) or Discard
// (the step is marked skipped on its order; an order that cannot go ahead without it, unscreened or
// unfulfilled, fails and is undone instead). Refreshed every two seconds.
"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { QUEUE_ATTEMPTS, QUEUE_BACKOFF_MS, STEPS } from "@/server/contract";
import { type DeadLetter, formatClock } from "../../_lib/console";
import { formatTick } from "../../_lib/format";
import { describeProblem, useTRPC } from "../../_lib/trpc";
import frame from "./Console.module.css";
import { ConsoleTable } from "./ConsoleTable";
import styles from "./DeadLetters.module.css";
import { OrderRef } from "./OrderRef";
import { QueryProblem } from "./QueryProblem";

const REFRESH_MS = 2000;

/** "1 s, 2 s and 4 s": the waits between the attempts, doubling each time. */
const BACKOFF_TEXT = (() => {
  const waits = Array.from({ length: QUEUE_ATTEMPTS - 1 }, (_, index) =>
    formatTick(QUEUE_BACKOFF_MS * 2 ** index),
  );
  return waits.length > 1 ? `${waits.slice(0, -1).join(", ")} and ${waits.at(-1)}` : (waits[0] ?? "");
})();

/** From the first attempt to the last one's failure: the sum of the backoff waits. */
const SECONDS_TO_DEAD_LETTER = Math.round((QUEUE_BACKOFF_MS * (2 ** (QUEUE_ATTEMPTS - 1) - 1)) / 1000);

/** What Discard does to the order, by what the step is to it (STEPS[name].onDiscard). */
const DISCARD_MEANS = {
  skip: "Give up: the job is removed and the step is marked skipped on its order",
  cancel:
    "Give up: the job is removed and its order, which cannot go ahead without this step, fails and is undone (stock back, payment voided or refunded)",
} as const;

function rowLabel(letter: DeadLetter): string {
  return `${letter.queue} dead letter for order ${letter.orderId ?? letter.jobId}`;
}

export function DeadLetters() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const letters = useQuery({ ...trpc.dev.deadLetters.queryOptions(), refetchInterval: REFRESH_MS });
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.dev.deadLetters.queryFilter()),
      queryClient.invalidateQueries(trpc.dev.queues.queryFilter()),
    ]);
  const retry = useMutation(trpc.dev.retryDeadLetter.mutationOptions({ onSettled: refresh }));
  const retryAll = useMutation(trpc.dev.retryAllDeadLetters.mutationOptions({ onSettled: refresh }));
  const discard = useMutation(trpc.dev.discardDeadLetter.mutationOptions({ onSettled: refresh }));
  const busy = retry.isPending || retryAll.isPending || discard.isPending;
  const failure = retry.error ?? retryAll.error ?? discard.error;
  const list = letters.data ?? [];

  return (
    <section id="dead-letters" className={`card ${frame.section}`} aria-labelledby="dead-letters-title">
      <div className={frame.sectionHead}>
        <h2 id="dead-letters-title">
          Dead letters{" "}
          {list.length > 0 && (
            <span className="count-pill count-pill-bad" role="status">
              {list.length}
            </span>
          )}
        </h2>
        <button
          type="button"
          className="button button-small"
          disabled={busy || list.length === 0}
          onClick={() => retryAll.mutate()}
        >
          Retry all
        </button>
      </div>
      <p className={`hint ${frame.intro}`}>
        A side-effect job gets {QUEUE_ATTEMPTS} attempts, waiting {BACKOFF_TEXT} between them. One that fails
        every attempt rests here and its order shows &ldquo;Needs attention&rdquo;. Fix the cause first (lift
        the outage), then retry: the step is idempotent, so a replay is still one email.
      </p>
      {letters.isError && <QueryProblem error={letters.error} what="the dead letters" />}
      {failure && (
        <p className="field-error" role="alert">
          {describeProblem(failure).message}
        </p>
      )}
      {retryAll.isSuccess && !busy && (
        <p className="hint" role="status">
          Retried {retryAll.data} {retryAll.data === 1 ? "job" : "jobs"}.
        </p>
      )}
      {letters.isPending ? (
        <p className="muted">Loading dead letters…</p>
      ) : list.length === 0 ? (
        <div className={frame.empty}>
          <p className={frame.emptyTitle}>No dead letters</p>
          <p>
            Jobs that failed every retry wait here instead of vanishing. Try the &ldquo;Email outage&rdquo;
            scenario and an async order: about {SECONDS_TO_DEAD_LETTER} seconds later its receipt lands here.
          </p>
        </div>
      ) : (
        <ConsoleTable
          className={`${frame.table} ${frame.wide} ${frame.stackOnPhone}`}
          head={
            <>
              <th scope="col">Step</th>
              <th scope="col">Order</th>
              <th scope="col">Last error</th>
              <th scope="col" className={frame.num}>
                Attempts
              </th>
              <th scope="col">Failed at</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </>
          }
        >
          {list.map((letter) => (
            <DeadLetterRow
              key={`${letter.queue}/${letter.jobId}`}
              letter={letter}
              busy={busy}
              onRetry={retry.mutate}
              onDiscard={discard.mutate}
            />
          ))}
        </ConsoleTable>
      )}
    </section>
  );
}

/** Which job a button acts on. */
type JobRef = Pick<DeadLetter, "queue" | "jobId">;

function DeadLetterRow({
  letter,
  busy,
  onRetry,
  onDiscard,
}: {
  letter: DeadLetter;
  busy: boolean;
  onRetry: (job: JobRef) => void;
  onDiscard: (job: JobRef) => void;
}) {
  return (
    <tr aria-label={rowLabel(letter)}>
      <th scope="row">
        <span className={frame.knobService}>{STEPS[letter.queue].label}</span>
        <span className={frame.knobUsedBy}>
          queue <code>{letter.queue}</code>
        </span>
      </th>
      <td data-label="Order">
        {letter.orderId ? (
          <OrderRef orderId={letter.orderId} label={letter.orderId.slice(0, 8)} />
        ) : (
          <span className="muted">unknown</span>
        )}
      </td>
      <td className={`${styles.deadLetterError} ${frame.stackWide}`} data-label="Last error">
        {letter.error}
      </td>
      <td className={`${frame.num} tabular`} data-label="Attempts">
        {letter.attempts}/{letter.maxAttempts}
      </td>
      <td className="tabular nowrap" data-label="Failed at">
        {letter.failedAt ? formatClock(letter.failedAt) : "–"}
      </td>
      <td className={frame.stackWide}>
        <div className={styles.rowActions}>
          <button
            type="button"
            className="button button-small button-primary"
            disabled={busy}
            onClick={() => onRetry({ queue: letter.queue, jobId: letter.jobId })}
          >
            Retry
          </button>
          <button
            type="button"
            className="button button-small button-quiet"
            disabled={busy}
            title={DISCARD_MEANS[STEPS[letter.queue].onDiscard]}
            onClick={() => onDiscard({ queue: letter.queue, jobId: letter.jobId })}
          >
            Discard
          </button>
        </div>
      </td>
    </tr>
  );
}
