// Security headers for every response of the web process. Pages get a Content Security Policy with a
// fresh nonce per request: Next.js reads the nonce from the request's own CSP header and puts it on
// every script it emits, so only those scripts (and what they load) run. Nothing may frame the shop.
// @see https://nextjs.org/docs/app/guides/content-security-policy
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

const EVERY_RESPONSE: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
};

/** The policy a page runs under. Development adds what Next's dev tooling needs (eval for React's
 * call stacks, its hot-reload socket). */
export function contentSecurityPolicy(nonce: string, dev: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${dev ? " 'unsafe-eval'" : ""}`,
    // React sets style attributes (the waterfall's bars); styles cannot run code.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${dev ? " ws: wss:" : ""}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** API answers and anything else that is not a page: nothing to run, nothing to frame. */
export function setSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(EVERY_RESPONSE)) res.setHeader(name, value);
  res.setHeader("content-security-policy", "default-src 'none'; frame-ancestors 'none'");
}

/** A page: the policy goes on the response, and on the request so that Next.js finds the nonce. */
export function setPageSecurityHeaders(req: IncomingMessage, res: ServerResponse, dev: boolean): void {
  const policy = contentSecurityPolicy(randomBytes(16).toString("base64"), dev);
  for (const [name, value] of Object.entries(EVERY_RESPONSE)) res.setHeader(name, value);
  res.setHeader("content-security-policy", policy);
  req.headers["content-security-policy"] = policy;
}
