// A worker's own small HTTP server: GET /metrics and nothing else, on WORKER_METRICS_PORT.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { isMetricsPath, serveMetrics } from "./metrics";

export interface MetricsServer {
  /** Where the web process (or Prometheus) scrapes it. */
  url: string;
  close: () => Promise<void>;
}

export class MetricsPortInUse extends Error {}

/** Listens, or fails with MetricsPortInUse when the port is taken (another worker on this machine). */
export async function startMetricsServer({
  host,
  port,
}: {
  host: string;
  port: number;
}): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (isMetricsPath(req.url ?? "/")) return void serveMetrics(req, res);
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("Not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new MetricsPortInUse(
              `port ${port} (WORKER_METRICS_PORT) is in use, probably by another worker on this machine. ` +
                "Give each worker its own port, or WORKER_METRICS_PORT=0 for a free one: the web process " +
                "finds every worker's metrics through Redis either way.",
            )
          : error,
      );
    });
    server.listen(port, host, resolve);
  });
  const { port: actual } = server.address() as AddressInfo;
  // Listening on every interface: tell others the machine's name; otherwise the address itself.
  const wildcard = host === "0.0.0.0" || host === "::";
  const name = wildcard ? hostname() : host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${name}:${actual}/metrics`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
