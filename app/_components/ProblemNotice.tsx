// Why a purchase did not go through, in the server's words, with what to do next. When the failed
// checkout left an order behind (compensated: nothing charged), it links to it.
"use client";

import Link from "next/link";
import { type AppErrorCode, type CheckoutMode, MODES } from "@/server/contract";
import type { ApiProblem } from "../_lib/trpc";

const TITLES: Partial<Record<AppErrorCode, string>> = {
  OUT_OF_STOCK: "Out of stock",
  PAYMENT_DECLINED: "Payment declined",
  DEPENDENCY_FAILED: "Checkout could not finish",
  BAD_REQUEST: "Please check your order",
  IDEMPOTENCY_CONFLICT: "This checkout was already used",
  DATABASE_UNAVAILABLE: "The shop is restarting its database",
};

interface Props {
  problem: ApiProblem;
  mode: CheckoutMode;
  /** Fraud screening said no while the checkout waited for it (a verdict, not a failure). */
  rejected?: boolean;
}

export function ProblemNotice({ problem, mode, rejected = false }: Props) {
  const title = problem.noAnswer
    ? "No answer from the shop"
    : rejected
      ? "Fraud screening declined this order"
      : ((problem.appCode && TITLES[problem.appCode]) ?? "Your order was not placed");
  return (
    <div className="notice notice-error" role="alert">
      <p className="notice-title">{title}</p>
      <p>{problem.message}</p>
      {problem.formErrors.length > 0 && (
        <ul>
          {problem.formErrors.map((message) => (
            <li key={message}>{message}</li>
          ))}
        </ul>
      )}
      {problem.appCode === "OUT_OF_STOCK" && (
        <p>
          Nothing was charged. <Link href="/cart">Update your cart</Link> and try again.
        </p>
      )}
      {problem.appCode === "DEPENDENCY_FAILED" && MODES[mode].waitsForSideEffects && (
        <p className="hint">
          That is temporal coupling: a synchronous checkout fails when any dependency fails. In async mode the
          same step would have been retried in the background while your order stood.
        </p>
      )}
      {rejected && (
        <p className="hint">
          A synchronous checkout hears the verdict before it answers, so you learn it here. In async mode the
          order would have been confirmed at once, and cancelled a moment later on its order page.
        </p>
      )}
      {problem.noAnswer && (
        <p className="hint">Pressing Purchase again is safe: it carries the same idempotency key.</p>
      )}
      {problem.orderId && (
        <p>
          <Link href={`/orders/${problem.orderId}`}>See what happened to this order</Link>
        </p>
      )}
    </div>
  );
}
