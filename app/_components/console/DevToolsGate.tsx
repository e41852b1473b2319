// The door of the developer pages. When the shop runs with DEV_TOOLS_KEY (as it must once other machines
// can reach it), a browser enters the key here once; the server answers with an httpOnly cookie and the
// page behind the door appears. Without a key configured the door is open and shows nothing.
"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useState } from "react";
import { devToolsKeyInput } from "@/server/contract";
import { describeProblem, useTRPC } from "../../_lib/trpc";
import { TextField } from "../TextField";
import frame from "./Console.module.css";
import { ConsoleHeader } from "./ConsoleHeader";
import styles from "./DevToolsGate.module.css";
import { QueryProblem } from "./QueryProblem";

export function DevToolsGate({ children }: { children: ReactNode }) {
  const trpc = useTRPC();
  const access = useQuery(trpc.dev.access.queryOptions());
  if (access.isError) return <QueryProblem error={access.error} what="the developer tools" />;
  if (access.isPending) return <p className="muted">Opening the developer tools…</p>;
  if (access.data.access === "locked") return <UnlockForm />;
  return children;
}

function UnlockForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | undefined>();
  // Everything this page asked for so far was refused: ask again once the browser holds the cookie.
  const unlock = useMutation(
    trpc.dev.unlock.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries(),
      onError: (problem) => setError(describeProblem(problem).message),
    }),
  );

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const parsed = devToolsKeyInput.safeParse({ key });
    if (!parsed.success) return setError("Enter the key the shop was started with.");
    setError(undefined);
    unlock.mutate(parsed.data);
  }

  return (
    <div className={frame.console}>
      <ConsoleHeader eyebrow="Behind the Purchase button" title="Developer tools are locked">
        These tools read every customer's orders and switch the shop's services off, so this shop keeps them
        behind the key it was started with (<code>DEV_TOOLS_KEY</code>). Enter it once; this browser remembers
        it for a week.
      </ConsoleHeader>
      <form className={`card form ${styles.form}`} onSubmit={submit} noValidate aria-label="Unlock">
        <TextField
          name="dev-tools-key"
          label="Developer tools key"
          type="password"
          autoComplete="current-password"
          value={key}
          disabled={unlock.isPending}
          error={error}
          onChange={(value) => {
            setKey(value);
            setError(undefined);
          }}
        />
        <button type="submit" className="button button-primary" disabled={unlock.isPending}>
          {unlock.isPending ? "Unlocking…" : "Unlock"}
        </button>
      </form>
    </div>
  );
}
