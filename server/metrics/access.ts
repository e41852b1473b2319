// Who may read /metrics (the web port and each worker's own port). The numbers hold no customer data,
// but they tell how much the shop sells and how it copes, so the rule follows the developer tools':
//   - METRICS off (or following DEV_TOOLS=off): 404, as if there were nothing.
//   - A scrape that carries DEV_TOOLS_KEY (`Authorization: Bearer <key>`, what Prometheus sends with
//     `authorization: { credentials: … }`), or a browser holding the unlocked developer tools' cookie: yes.
//   - Otherwise only a scrape from this machine: a loopback peer that also names a loopback host. The
//     host check keeps out a page of another site whose name was pointed at 127.0.0.1 (DNS rebinding)
//     when the shop listens on every interface. Behind a proxy every peer looks local, so there the key
//     is always needed.
// Without DEV_TOOLS_KEY, then, only this machine can scrape: set the key to scrape from elsewhere.
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { config, isLoopback, metricsEnabled } from "../config";
import { devToolsAccess } from "../devtools/access";

export type MetricsAccess = "off" | "allowed" | "refused";

function sameBytes(a: string, b: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** The peer address without the IPv4-in-IPv6 wrapping Node gives it on a dual-stack socket. */
function peerAddress(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? "").replace(/^::ffff:/i, "");
}

function hostName(req: IncomingMessage): string | null {
  try {
    return new URL(`http://${req.headers.host ?? ""}`).hostname;
  } catch {
    return null;
  }
}

/** A request from this machine, addressed to this machine. */
export function fromThisMachine(req: IncomingMessage, { proxied }: { proxied: boolean }): boolean {
  if (proxied) return false;
  const host = hostName(req);
  return isLoopback(peerAddress(req)) && host !== null && isLoopback(host);
}

export function carriesKey(req: IncomingMessage): boolean {
  const key = config.DEV_TOOLS_KEY;
  if (!key) return false;
  const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
  if (bearer !== undefined && sameBytes(bearer.trim(), key)) return true;
  return devToolsAccess(req.headers.cookie) === "unlocked";
}

/** `proxied`: the process is served through a reverse proxy (the web process with TRUST_PROXY=on). */
export function metricsAccess(req: IncomingMessage, { proxied }: { proxied: boolean }): MetricsAccess {
  if (!metricsEnabled(config)) return "off";
  return carriesKey(req) || fromThisMachine(req, { proxied }) ? "allowed" : "refused";
}
