// Client-side plumbing for every page: one QueryClient per browser tab and the tRPC client that talks
// to /api/trpc on the same origin (batched; no transformer, so dates arrive as ISO strings).
"use client";

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, isTRPCClientError } from "@trpc/client";
import { type ReactNode, useState } from "react";
import { MAX_BATCH_SIZE } from "@/server/contract";
import type { AppRouter } from "@/server/trpc/root";
import { TRPCProvider } from "./_lib/trpc";

/** A 4xx answer will not change by asking again; anything else gets two more tries. */
function shouldRetry(failures: number, error: unknown): boolean {
  const status = isTRPCClientError<AppRouter>(error) ? error.data?.httpStatus : undefined;
  if (status !== undefined && status >= 400 && status < 500) return false;
  return failures < 2;
}

function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 5_000, retry: shouldRetry },
      mutations: { retry: false },
    },
  });
}

export function Providers({ children }: { children: ReactNode }) {
  const [queryClient] = useState(makeQueryClient);
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: "/api/trpc", maxItems: MAX_BATCH_SIZE })] }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
