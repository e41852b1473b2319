// Who may read /metrics (the web port and each worker's own port). The numbers hold no customer data,
// but they tell how much the shop sells and how it copes, so the rule follows the developer tools':
//   - METRICS off (or following DEV_TOOLS=off): 404, as if there were nothing.
//   - A scrape that carries DEV_TOOLS_KEY (`Authorization: Bearer <key>`, what Prometheus sends with
//     `authorization: { credentials: … }`), or a browser holding the unlocked developer tools' cookie: yes.
//   - Otherwise only a scrape from this machine (server/http/edge.ts `fromThisMachine`: a loopback peer naming
//     a loopback host, not relayed by a proxy). Behind a proxy every peer looks local, so there the key
//     is always needed.
// Without DEV_TOOLS_KEY, then, only this machine can scrape: set the key to scrape from elsewhere.
import type { IncomingMessage } from "node:http";
import { config, metricsEnabled } from "../../config";
import { fromThisMachine } from "../edge";
import { devToolsAccess, sameBytes } from "./dev-tools";

export type MetricsAccess = "off" | "allowed" | "refused";

export function carriesKey(req: IncomingMessage): boolean {
  const key = config.DEV_TOOLS_KEY;
  if (!key) return false;
  const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
  if (bearer !== undefined && sameBytes(bearer.trim(), key)) return true;
  return devToolsAccess(req) === "unlocked";
}

export function metricsAccess(req: IncomingMessage): MetricsAccess {
  if (!metricsEnabled(config)) return "off";
  return carriesKey(req) || fromThisMachine(req) ? "allowed" : "refused";
}
