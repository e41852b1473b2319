// A developer-tools call that failed, in the server's words. FORBIDDEN means the deployment switched
// the developer tools off (DEV_TOOLS=off), which deserves its own explanation.
"use client";

import { isTRPCClientError } from "@trpc/client";
import type { AppRouter } from "@/server/trpc/root";
import { describeProblem } from "../../_lib/trpc";

export function QueryProblem({ error, what }: { error: unknown; what: string }) {
  const forbidden = isTRPCClientError<AppRouter>(error) && error.data?.code === "FORBIDDEN";
  return (
    <div className="notice notice-error" role="alert">
      <p className="notice-title">
        {forbidden ? "Developer tools are switched off" : `Could not load ${what}`}
      </p>
      <p>
        {forbidden
          ? "This deployment runs with DEV_TOOLS=off, so the knobs, queues, dead letters and mailbox are not available."
          : describeProblem(error).message}
      </p>
    </div>
  );
}
