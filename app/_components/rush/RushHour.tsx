// /dev/rush: the article's load claims, live. Many virtual shoppers at once (the load process, started
// by the web process), charts that read the shop's own metrics every second, the shop's capacity
// knobs, three one-click experiments, and saved runs to lay side by side.
"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { describeProblem, useTRPC } from "../../_lib/trpc";
import { useDevSettings } from "../../_lib/useDevSettings";
import frame from "../console/Console.module.css";
import { ConsoleHeader } from "../console/ConsoleHeader";
import { QueryProblem } from "../console/QueryProblem";
import { CapacityKnobs } from "./CapacityKnobs";
import { Experiments } from "./Experiments";
import { LiveRun } from "./LiveRun";
import { RunForm } from "./RunForm";
import styles from "./Rush.module.css";
import { SavedRuns } from "./SavedRuns";

const RUNNING_REFRESH_MS = 1_000;
const IDLE_REFRESH_MS = 5_000;

export function RushHour() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { settings, update, error: settingsError } = useDevSettings();
  const state = useQuery({
    ...trpc.dev.rush.state.queryOptions(),
    refetchInterval: (query) =>
      query.state.data?.run?.status === "running" ? RUNNING_REFRESH_MS : IDLE_REFRESH_MS,
  });
  const runs = useQuery(trpc.dev.rush.runs.queryOptions());
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.dev.rush.pathKey() });
  const start = useMutation(trpc.dev.rush.start.mutationOptions({ onSettled: refresh }));
  const startExperiment = useMutation(trpc.dev.rush.startExperiment.mutationOptions({ onSettled: refresh }));
  const stop = useMutation(trpc.dev.rush.stop.mutationOptions({ onSettled: refresh }));
  // A new start clears what the last attempt said went wrong.
  const forgetProblems = () => {
    for (const mutation of [start, startExperiment, stop]) mutation.reset();
  };

  const run = state.data?.run ?? null;
  const running = state.data?.busy ?? false;
  // A run that ends is saved: list it (and re-read the knobs an experiment put back).
  const wasRunning = useRef(false);
  useEffect(() => {
    if (wasRunning.current && !running) {
      void queryClient.invalidateQueries({ queryKey: trpc.dev.rush.runs.queryKey() });
      void settings.refetch();
    }
    wasRunning.current = running;
  }, [running, queryClient, trpc, settings]);

  const problem = start.error ?? startExperiment.error ?? stop.error ?? settingsError;

  return (
    <div className={frame.console}>
      <ConsoleHeader eyebrow="Developer console" title="Rush hour" back="Fault knobs, queues, dead letters">
        Many shoppers at once. Under load, sync checkouts pile up behind their slowest dependency and take the
        whole shop with them; async ones answer fast, queue the side effects, and drain the backlog at the
        consumers&apos; pace: how long an order takes to be done depends on how many messages are waiting.
      </ConsoleHeader>

      {problem && (
        <p className="notice notice-error" role="alert">
          {describeProblem(problem).message}
        </p>
      )}
      {state.isError && <QueryProblem error={state.error} what="the rush" />}

      <Experiments
        running={running}
        starting={startExperiment.isPending ? (startExperiment.variables?.experiment ?? null) : null}
        onStart={(experiment) => {
          forgetProblems();
          startExperiment.mutate({ experiment });
        }}
      />
      {run && <LiveRun run={run} step={state.data?.step ?? null} draining={state.data?.draining ?? false} />}
      <div className={styles.pair}>
        <RunForm
          running={running}
          starting={start.isPending}
          stopping={stop.isPending}
          onStart={(load) => {
            forgetProblems();
            start.mutate({ load });
          }}
          onStop={() => stop.mutate()}
        />
        {settings.data && (
          <CapacityKnobs
            shop={settings.data.shop}
            workerProcesses={state.data?.workerProcesses ?? null}
            onChange={update}
          />
        )}
      </div>
      {runs.isError ? (
        <QueryProblem error={runs.error} what="the saved runs" />
      ) : (
        runs.data && <SavedRuns runs={runs.data} />
      )}
    </div>
  );
}
