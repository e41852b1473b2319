// What a person reads while a load run goes and after it: one line about the plan, a progress line
// each second, and the summary as a table. (`--json` prints the events themselves instead.)
import {
  describeArrivals,
  type LoadPlan,
  type LoadProgressEvent,
  type LoadSummaryEvent,
} from "../../server/contract";

const ms = (value: number | null) => (value === null ? "n/a" : `${Math.round(value)} ms`);
const orNa = (value: number | null) => (value === null ? "n/a" : `${value}`);

export function describePlan(runId: string, plan: LoadPlan): string {
  const how = describeArrivals(plan);
  const extras = [plan.preset && `preset ${plan.preset}`, plan.watch && "watching each order"].filter(
    Boolean,
  );
  return (
    `load: run ${runId}: ${how}, ${plan.mode} checkouts against ${plan.target}` +
    `${extras.length > 0 ? ` (${extras.join(", ")})` : ""}; orders tagged *.${runId}@load.example`
  );
}

export function progressLine(event: LoadProgressEvent): string {
  return (
    `${(event.elapsedMs / 1000).toFixed(0).padStart(4)} s  ${event.answered} answered  ` +
    `${event.ordersPerSecond.toFixed(1)} orders/s  p50 ${ms(event.answerMs.p50)}  ${event.errors} errors  ` +
    `${event.inFlight} in flight  queue ${orNa(event.queueDepth)}`
  );
}

export function summaryTable(summary: LoadSummaryEvent): string {
  const errors = Object.entries(summary.errors).map(([kind, n]) => `${kind} ×${n}`);
  const rows: [string, string][] = [
    [
      "run",
      `${summary.runId} (stopped by ${summary.stoppedBy} after ${(summary.elapsedMs / 1000).toFixed(1)} s)`,
    ],
    ["orders placed", `${summary.placed} of ${summary.answered} answered (${summary.sent} sent)`],
    ["orders/s", ordersPerSecondLine(summary)],
    [
      "time to answer",
      `p50 ${ms(summary.answerMs.p50)} · p95 ${ms(summary.answerMs.p95)} · p99 ${ms(summary.answerMs.p99)}`,
    ],
    ["errors", errors.length > 0 ? errors.join(", ") : "none"],
    [
      "retried",
      `${summary.retries.busy} × busy (503), ${summary.retries.stillProcessing} × still processing (409)`,
    ],
    [
      "time to done",
      `p50 ${ms(summary.doneMs.p50)} · p95 ${ms(summary.doneMs.p95)} (${summary.doneMs.measured} orders, ` +
        `${summary.doneMs.unsettled} not done at the end)`,
    ],
    ["peak queue depth", orNa(summary.peakQueueDepth)],
    [
      "catalog (product.list)",
      `p50 ${ms(summary.catalogMs.p50)} · p95 ${ms(summary.catalogMs.p95)} (${summary.catalogMs.calls} calls)`,
    ],
  ];
  if (summary.abandoned > 0) rows.push(["abandoned", `${summary.abandoned} still waiting at the stop`]);
  if (summary.dropped > 0) rows.push(["dropped", `${summary.dropped} arrivals (too many in flight)`]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join("\n");
}

/** Orders placed and done per second over the same window, so a growing backlog is not read as
 * throughput: "26.6 placed · 7.5 done (every side effect finished) in the same 20.0 s". */
export function ordersPerSecondLine(
  summary: Pick<LoadSummaryEvent, "ordersPerSecond" | "donePerSecond" | "elapsedMs">,
): string {
  const done =
    summary.donePerSecond === null
      ? "done n/a (not every order was followed: add --watch)"
      : `${summary.donePerSecond} done (every side effect finished)`;
  return `${summary.ordersPerSecond} placed · ${done} in the same ${(summary.elapsedMs / 1000).toFixed(1)} s`;
}
