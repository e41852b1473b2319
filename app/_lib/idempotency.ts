// The checkout's idempotency key, kept in sessionStorage from the first Purchase click until the
// order succeeds, so a retry after a lost answer (network error, reload) reuses it and can never
// create a second order, and a reloaded checkout page finds the order it placed (or is placing). A
// different cart or customer means a different checkout, so a new key.
"use client";

import { z } from "zod";

const STORAGE_KEY = "slow-morning:checkout-attempt";
const attemptSchema = z.object({ key: z.string(), fingerprint: z.string() });

function read(): z.infer<typeof attemptSchema> | null {
  try {
    const parsed = attemptSchema.safeParse(JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) ?? "null"));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The key for this exact request: the stored one if the request is unchanged, else a new one. */
export function idempotencyKeyFor(request: unknown): string {
  const fingerprint = JSON.stringify(request);
  const stored = read();
  if (stored && stored.fingerprint === fingerprint) return stored.key;
  const key = crypto.randomUUID();
  window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ key, fingerprint }));
  return key;
}

/** The key of a checkout that was sent and not answered for good (the page was reloaded, or the
 * answer lost): the order it placed, or is placing, can be looked up by it. */
export function pendingIdempotencyKey(): string | null {
  return read()?.key ?? null;
}

/** The server answered for good (an order, or a definite refusal): the next attempt gets a new key. */
export function forgetIdempotencyKey(): void {
  window.sessionStorage.removeItem(STORAGE_KEY);
}
