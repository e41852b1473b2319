// Every process's metrics as one, for the Rush hour panel: this web process's own registry plus the
// /metrics of every live worker (listed in Redis, see workers.ts), fetched as prom-client's JSON and
// summed by prom-client. The panel reads the same numbers a Prometheus server would, not a second
// bookkeeping.
import { config } from "../config";
import { METRICS_JSON, mergeProcesses, type ProcessMetrics, processMetricsSchema } from "./readings";
import { registry } from "./registry";
import { liveWorkers } from "./workers";

/** A worker that does not answer within this long is left out of this scrape (and reported). */
const SCRAPE_TIMEOUT_MS = 2_000;

export interface ProcessScrape {
  /** "web" (this process) or the worker's metrics URL. */
  source: string;
  ok: boolean;
  error?: string;
}

export interface MergedMetrics {
  /** When the scrape was taken (ms since the epoch): the time base of rates. */
  at: number;
  /** Every process's series summed. */
  metrics: ProcessMetrics;
  /** Each process's own series (those that answered), for differences taken per process: a process
   * missing from one scrape must not read as a counter reset of the sum. */
  perProcess: { source: string; metrics: ProcessMetrics }[];
  processes: ProcessScrape[];
}

/** One worker's metrics, as prom-client's JSON. The web process holds the key, so it may scrape
 * workers listening beyond loopback. */
async function fetchMetrics(url: string): Promise<ProcessMetrics> {
  const headers: Record<string, string> = { accept: METRICS_JSON };
  if (config.DEV_TOOLS_KEY) headers.authorization = `Bearer ${config.DEV_TOOLS_KEY}`;
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const parsed = processMetricsSchema.safeParse(await response.json());
  if (!parsed.success) throw new Error(`not prom-client's metrics JSON: ${parsed.error.message}`);
  return parsed.data;
}

/**
 * Scrapes this process and every live worker and sums their series. A worker that fails to answer is
 * listed with its error and left out of the sum; this process's own numbers are always there.
 */
export async function scrapeAll(): Promise<MergedMetrics> {
  const at = Date.now();
  const own = await registry.getMetricsAsJSON();
  const workers = (await liveWorkers().catch(() => [])).flatMap((worker) =>
    worker.metricsUrl ? [worker.metricsUrl] : [],
  );
  const scraped = await Promise.all(
    workers.map(
      async (
        url,
      ): Promise<{ source: string; metrics: ProcessMetrics } | { source: string; error: string }> => {
        try {
          return { source: url, metrics: await fetchMetrics(url) };
        } catch (error) {
          return { source: url, error: error instanceof Error ? error.message : String(error) };
        }
      },
    ),
  );
  const answered = scraped.flatMap((scrape) =>
    "metrics" in scrape ? [{ source: scrape.source, metrics: scrape.metrics }] : [],
  );
  const perProcess: MergedMetrics["perProcess"] = [{ source: "web", metrics: own }, ...answered];
  return {
    at,
    metrics: await mergeProcesses(perProcess.map((process) => process.metrics)),
    perProcess,
    processes: [
      { source: "web", ok: true },
      ...scraped.map((scrape) =>
        "error" in scrape
          ? { source: scrape.source, ok: false, error: scrape.error }
          : { source: scrape.source, ok: true },
      ),
    ],
  };
}
