// The developer console: scenarios and fault knobs for the simulated services, the queues that carry
// the side effects, and the dead-letter set. Everything here is what the shopper never sees.
"use client";

import Link from "next/link";
import { matchingPreset } from "../../_lib/console";
import { TIMINGS } from "../../_lib/order-timing";
import { describeProblem } from "../../_lib/trpc";
import { useDevSettings } from "../../_lib/useDevSettings";
import { DeadLetters } from "./DeadLetters";
import { DefaultModeSetting } from "./DefaultModeSetting";
import { FaultKnobs } from "./FaultKnobs";
import { PresetPicker } from "./PresetPicker";
import { QueryProblem } from "./QueryProblem";
import { QueuesPanel } from "./QueuesPanel";

export function DevConsole() {
  const { settings, update, applyPreset, applying, error } = useDevSettings();
  const data = settings.data;

  return (
    <div className="console">
      <header className="console-head">
        <div>
          <p className="eyebrow">Behind the Purchase button</p>
          <h1 className="page-title">Developer console</h1>
          <p className="lede console-lede">
            Make the downstream services slow, flaky or down, then watch what each checkout mode does with it:
            who waits, what queues up, and what lands in the dead-letter set.
          </p>
        </div>
        <nav aria-label="Developer pages" className="console-links">
          <Link href="/orders" className="console-link">
            <span className="console-link-title">Orders comparison →</span>
            <span className="console-link-text">
              {TIMINGS.answer.label} vs {TIMINGS.done.label.toLowerCase()}, sync beside async
            </span>
          </Link>
          <Link href="/dev/rush" className="console-link">
            <span className="console-link-title">Rush hour →</span>
            <span className="console-link-text">
              Many shoppers at once: pile-ups, backlogs, scaling consumers
            </span>
          </Link>
          <Link href="/mailbox" className="console-link">
            <span className="console-link-title">Mailbox →</span>
            <span className="console-link-text">What the simulated email provider actually sent</span>
          </Link>
          {/* Served beside Next.js, not by it: a full page load. */}
          <a href="/dev/jobs" className="console-link">
            <span className="console-link-title">Jobs (bull-board) →</span>
            <span className="console-link-text">Every queued job: payload, attempts, stack traces</span>
          </a>
        </nav>
      </header>

      {settings.isError && <QueryProblem error={settings.error} what="the settings" />}
      {error && (
        <p className="notice notice-error" role="alert">
          The change was not saved: {describeProblem(error).message}
        </p>
      )}
      {settings.isPending && <p className="muted">Loading the knobs…</p>}
      {data && (
        <>
          <PresetPicker current={matchingPreset(data.services)} applying={applying} onApply={applyPreset} />
          <FaultKnobs services={data.services} onChange={update} />
        </>
      )}
      <QueuesPanel />
      <DeadLetters />
      {data && (
        <DefaultModeSetting value={data.defaultMode} onChange={(mode) => update({ defaultMode: mode })} />
      )}
    </div>
  );
}
