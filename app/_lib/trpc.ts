// The browser's typed handle on the API: `useTRPC()` gives queryOptions/mutationOptions factories for
// TanStack Query. Only the router's *type* crosses over from the server.
"use client";

import { isTRPCClientError } from "@trpc/client";
import type { inferRouterOutputs } from "@trpc/server";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import type { AppErrorCode } from "@/server/contract";
import type { AppRouter } from "@/server/trpc/root";

export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();

type Outputs = inferRouterOutputs<AppRouter>;
export type Product = Outputs["product"]["list"][number];
export type RelatedToOrder = Outputs["order"]["related"];

/** What the UI needs from a failed call, whatever failed (server answer or no answer at all). */
export interface ApiProblem {
  message: string;
  /** The domain code, when the server answered with one. */
  appCode: AppErrorCode | null;
  /** The order the failure belongs to, if one was created (and compensated). */
  orderId: string | null;
  /** zod's flattened issues, keyed by top-level input field. */
  fieldErrors: Record<string, string[] | undefined>;
  formErrors: string[];
  /** True when the server never answered (network error): a retry must reuse the idempotency key. */
  noAnswer: boolean;
  notFound: boolean;
}

export function describeProblem(error: unknown): ApiProblem {
  if (isTRPCClientError<AppRouter>(error) && error.data) {
    const { data } = error;
    return {
      message: error.message,
      appCode: data.appCode,
      orderId: data.details?.orderId ?? null,
      fieldErrors: data.fieldErrors ?? {},
      formErrors: data.formErrors ?? [],
      noAnswer: false,
      notFound: data.code === "NOT_FOUND",
    };
  }
  return {
    message:
      "We could not reach the shop. Check your connection and try again; you will not be charged twice.",
    appCode: null,
    orderId: null,
    fieldErrors: {},
    formErrors: [],
    noAnswer: true,
    notFound: false,
  };
}
