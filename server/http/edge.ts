// What a request says about where it comes from, checked before any handler runs: did the browser use
// HTTPS, what is the shop's own origin as that browser sees it, does a write come from one of the shop's
// own pages (or an allowed origin), does the Host header name this shop at all, and the one answer to
// "is this request from this machine?" that the developer tools and /metrics both go by.
import type { IncomingHttpHeaders } from "node:http";
import { config, isLoopback } from "../config";

/** Just what these checks read, so HTTP requests and socket.io handshakes both fit. */
export interface RequestFacts {
  headers: IncomingHttpHeaders;
  socket: { remoteAddress?: string };
}

/** The peer address without the IPv4-in-IPv6 wrapping Node gives it on a dual-stack socket. */
export function peerAddress(req: RequestFacts): string {
  return (req.socket.remoteAddress ?? "").replace(/^::ffff:/i, "");
}

/** Headers that only a proxy adds (RFC 7239 `Forwarded`, the de-facto `X-Forwarded-*` and `X-Real-IP`,
 * and HTTP's own `Via`): whoever sent the request to the proxy may be anywhere. */
export function cameThroughProxy(req: RequestFacts): boolean {
  return Object.keys(req.headers).some(
    (name) =>
      name === "forwarded" || name === "via" || name === "x-real-ip" || name.startsWith("x-forwarded-"),
  );
}

/** Who is asking, for limits per client: behind a trusted proxy, the address the proxy saw (the last
 * `X-Forwarded-For` entry, the one it added; earlier ones are the client's say-so), else the peer. */
export function clientAddress(req: RequestFacts): string {
  if (config.TRUST_PROXY === "on") {
    const header = req.headers["x-forwarded-for"];
    const last = (Array.isArray(header) ? header.join(",") : (header ?? "")).split(",").at(-1)?.trim();
    if (last) return last.replace(/^::ffff:/i, "");
  }
  return peerAddress(req);
}

function hostNameOf(req: RequestFacts): string | null {
  const host = firstValue(req.headers.host);
  if (!host) return null;
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return null;
  }
}

/**
 * Whether a request comes from this machine: a loopback peer, addressed to a loopback name (not a page
 * of another site whose name was pointed at 127.0.0.1), and not relayed by a proxy. A proxy on this
 * machine makes every peer look local, so behind one (TRUST_PROXY=on, or a request carrying a proxy's
 * headers) nothing is. The developer tools without a key and /metrics without a key are for exactly
 * these requests. A proxy that adds none of those headers cannot be told apart: see the README's
 * "Running it on a network".
 */
export function fromThisMachine(req: RequestFacts): boolean {
  if (config.TRUST_PROXY === "on" || cameThroughProxy(req)) return false;
  const host = hostNameOf(req);
  return isLoopback(peerAddress(req)) && host !== null && isLoopback(host);
}

function firstValue(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text?.split(",")[0]?.trim() || undefined;
}

/** `scheme://host[:port]` in its canonical form (lowercase, no default port), or null if malformed. */
function canonicalOrigin(origin: string): string | null {
  try {
    const url = new URL(origin);
    return url.protocol === "http:" || url.protocol === "https:" ? url.origin : null;
  } catch {
    return null;
  }
}

export function isHttps(req: RequestFacts): boolean {
  const forwarded = config.TRUST_PROXY === "on" ? firstValue(req.headers["x-forwarded-proto"]) : undefined;
  if (forwarded) return forwarded === "https";
  return "encrypted" in req.socket && req.socket.encrypted === true;
}

/** The shop's origin as the browser addressed it. */
export function ownOrigin(req: RequestFacts): string | null {
  const forwardedHost = config.TRUST_PROXY === "on" ? firstValue(req.headers["x-forwarded-host"]) : undefined;
  const host = forwardedHost ?? req.headers.host;
  return host ? canonicalOrigin(`${isHttps(req) ? "https" : "http"}://${host}`) : null;
}

/**
 * Why a request must be refused as coming from another site's page, or null if it may go on. A page
 * of the shop's own origin (or of ALLOWED_ORIGINS) may; so may a client that sends neither `Origin` nor
 * `Sec-Fetch-Site` (curl, the load generator, scripts): no browser page is behind it. "same-site" is
 * not enough: another port on the same host is the same site, and would carry the shopper's cookie.
 */
export function crossSiteReason(req: RequestFacts): string | null {
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const canonical = canonicalOrigin(origin);
    if (canonical && (canonical === ownOrigin(req) || config.ALLOWED_ORIGINS.includes(canonical)))
      return null;
    return `Requests from ${origin} are not accepted: only the shop's own pages may do this.`;
  }
  const site = firstValue(req.headers["sec-fetch-site"]);
  if (site === undefined || site === "same-origin" || site === "none") return null;
  return `A ${site} request is not accepted: only the shop's own pages may do this.`;
}

/**
 * False when the shop listens on loopback only and the Host header names something else: a page on
 * another site whose name was pointed at 127.0.0.1 (DNS rebinding) would otherwise count as same-origin.
 */
export function hostAllowed(req: RequestFacts): boolean {
  if (!req.headers.host || !isLoopback(config.HOST) || config.TRUST_PROXY === "on") return true;
  const name = hostNameOf(req);
  if (name === null) return false;
  return isLoopback(name) || config.ALLOWED_ORIGINS.some((origin) => new URL(origin).hostname === name);
}
