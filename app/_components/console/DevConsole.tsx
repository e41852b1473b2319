// The developer console: scenarios and fault knobs for the simulated services, the queues that carry
// the side effects, and the dead-letter set. Everything here is what the shopper never sees.
"use client";

import { matchingPreset } from "../../_lib/mode";
import { TIMINGS } from "../../_lib/order-timing";
import { describeProblem } from "../../_lib/trpc";
import { useDevSettings } from "../../_lib/useDevSettings";
import frame from "./Console.module.css";
import { ConsoleHeader, type ConsoleLink } from "./ConsoleHeader";
import { DeadLetters } from "./DeadLetters";
import { DefaultModeSetting } from "./DefaultModeSetting";
import { FaultKnobs } from "./FaultKnobs";
import { PresetPicker } from "./PresetPicker";
import { QueryProblem } from "./QueryProblem";
import { QueuesPanel } from "./QueuesPanel";

const LINKS: readonly ConsoleLink[] = [
  {
    href: "/orders",
    title: "Orders comparison →",
    text: `${TIMINGS.answer.label} vs ${TIMINGS.done.label.toLowerCase()}, sync beside async`,
  },
  {
    href: "/dev/rush",
    title: "Rush hour →",
    text: "Many shoppers at once: pile-ups, backlogs, scaling consumers",
  },
  { href: "/mailbox", title: "Mailbox →", text: "What the simulated email provider actually sent" },
  {
    href: "/dev/jobs",
    title: "Jobs (bull-board) →",
    text: "Every queued job: payload, attempts, stack traces",
    external: true,
  },
];

export function DevConsole() {
  const { settings, update, applyPreset, applying, error } = useDevSettings();
  const data = settings.data;

  return (
    <div className={frame.console}>
      <ConsoleHeader eyebrow="Behind the Purchase button" title="Developer console" links={LINKS}>
        Make the downstream services slow, flaky or down, then watch what each checkout mode does with it: who
        waits, what queues up, and what lands in the dead-letter set.
      </ConsoleHeader>

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
