// The waterfall said in words: every stretch and mark of every step, in order, in milliseconds since the
// order reached the server, folded away under the chart for whoever would rather read than look.
"use client";

import { type OrderView, STEPS, type StepName } from "@/server/contract";
import { formatDuration } from "../_lib/format";
import type { StepTimeline } from "../_lib/step-timeline";
import { segmentWords } from "../_lib/waterfall-words";
import styles from "./Waterfall.module.css";

export function WaterfallTable({
  order,
  timelines,
}: {
  order: OrderView;
  timelines: Map<StepName, StepTimeline>;
}) {
  return (
    <details className={styles.details}>
      <summary>The same timeline as a table</summary>
      <table className={styles.table}>
        <caption className="visually-hidden">
          Every stretch of every step, in milliseconds since the order reached the server
        </caption>
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">What</th>
            <th scope="col">From</th>
            <th scope="col">Took</th>
          </tr>
        </thead>
        <tbody>
          {order.steps.flatMap((view) => {
            const timeline = timelines.get(view.name);
            if (!timeline) return [];
            const lines = [
              ...timeline.segments.map((segment) => ({
                key: `${segment.kind}-${segment.startMs}-${segment.attempt ?? ""}`,
                at: segment.startMs,
                what: segmentWords(segment),
                took:
                  segment.kind === "compensation" && segment.endMs === segment.startMs
                    ? "–"
                    : formatDuration(segment.endMs - segment.startMs),
                rank: 1,
              })),
              ...timeline.marks.map((mark) => ({
                key: `${mark.kind}-${mark.atMs}`,
                at: mark.atMs,
                what: mark.kind === "operator-retry" ? "Retried by an operator" : "Discarded by an operator",
                took: "–",
                // A mark comes before what it starts: the Retry, then the wait in the queue.
                rank: 0,
              })),
            ].sort((a, b) => a.at - b.at || a.rank - b.rank);
            return lines.map((line, index) => (
              <tr key={`${view.name}-${line.key}`}>
                {index === 0 ? (
                  <th scope="row" rowSpan={lines.length}>
                    {STEPS[view.name].label}
                  </th>
                ) : null}
                <td>{line.what}</td>
                <td className="tabular">{formatDuration(line.at)}</td>
                <td className="tabular">{line.took}</td>
              </tr>
            ));
          })}
        </tbody>
      </table>
    </details>
  );
}
