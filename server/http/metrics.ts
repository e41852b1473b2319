// The HTTP side of the metrics: GET /metrics (the web process mounts it before Next.js; a worker serves
// it on a port of its own), and the web process's request measurements, taken from the moment a request
// arrives so that any wait in front of the handlers (a request-slot pool) counts.
import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { log } from "../log";
import { METRICS_JSON } from "../metrics/readings";
import { metrics, registry } from "../metrics/registry";
import { metricsAccess } from "./auth/metrics";

export const METRICS_PATH = "/metrics";

export function isMetricsPath(url: string): boolean {
  return url === METRICS_PATH || url.startsWith(`${METRICS_PATH}?`);
}

/** Answers GET /metrics with this process's registry, as the access rule allows: Prometheus text, or
 * prom-client's JSON for a request that accepts METRICS_JSON and not text. */
export async function serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const access = metricsAccess(req);
  if (access !== "allowed") {
    const [status, text] =
      access === "off"
        ? [404, "Not found\n"]
        : [401, "Metrics need the developer tools' key: send Authorization: Bearer <DEV_TOOLS_KEY>.\n"];
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
    res.end(text);
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  try {
    const json = wantsJson(req.headers.accept);
    const body = json ? JSON.stringify(await registry.getMetricsAsJSON()) : await registry.metrics();
    const contentType = json ? `${METRICS_JSON}; charset=utf-8` : registry.contentType;
    res.writeHead(200, { "content-type": contentType, "cache-control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : body);
  } catch (error) {
    log.error({ err: error }, "metrics: collecting failed");
    res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("Metrics unavailable\n");
  }
}

function wantsJson(accept: string | undefined): boolean {
  const types = (accept ?? "").split(",").map((part) => part.split(";")[0]?.trim());
  return types.includes(METRICS_JSON) && !types.some((type) => type?.startsWith("text/"));
}

/** The API's procedure names ("order.place", …), each series created at zero. */
export function apiProcedures(names: readonly string[]): ReadonlySet<string> {
  for (const procedure of [...names, "unknown"]) metrics.apiRequest.zero({ procedure });
  return new Set(names);
}

const arrivals = new WeakMap<IncomingMessage, number>();

/** When the request reached the HTTP server (performance.now() ms), if it was tracked. */
export function arrivalOf(req: IncomingMessage): number | undefined {
  return arrivals.get(req);
}

/**
 * Call first thing for every request: counts it in flight until its answer is done and, for the API,
 * observes the time from arrival to answer for each procedure the request names (a batch names several;
 * each gets the batch's time). Procedure names outside `procedures` count as "unknown" (no free text in
 * labels). Scrapes of /metrics are left out: watching must not move what is watched.
 */
export function trackRequest(
  req: IncomingMessage,
  res: ServerResponse,
  { apiBasePath, procedures }: { apiBasePath: string; procedures: ReadonlySet<string> },
): void {
  const arrivedAt = performance.now();
  arrivals.set(req, arrivedAt);
  const url = req.url ?? "/";
  if (isMetricsPath(url)) return;
  metrics.httpInFlight.inc();
  res.once("close", () => {
    metrics.httpInFlight.dec();
    if (!url.startsWith(apiBasePath)) return;
    const seconds = (performance.now() - arrivedAt) / 1000;
    for (const procedure of procedureNames(url.slice(apiBasePath.length), procedures)) {
      metrics.apiRequest.observe({ procedure }, seconds);
    }
  });
}

function procedureNames(pathAndQuery: string, procedures: ReadonlySet<string>): Set<string> {
  const path = pathAndQuery.split("?")[0] ?? "";
  const names = new Set<string>();
  for (const part of path.split(",")) {
    const name = safeDecode(part);
    names.add(procedures.has(name) ? name : "unknown");
  }
  return names;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
