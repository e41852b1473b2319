// Every process's metrics as one, for the Rush hour panel: this web process's own registry plus the
// /metrics of every live worker (listed in Redis, see workers.ts), parsed and summed. The panel reads
// the same numbers a Prometheus server would, not a second bookkeeping.
import { config } from "../config";
import { registry } from "./registry";
import { type Families, mergeFamilies, parsePrometheusText } from "./text";
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
  families: Families;
  /** Each process's own series (those that answered), for differences taken per process: a process
   * missing from one scrape must not read as a counter reset of the sum. */
  perProcess: { source: string; families: Families }[];
  processes: ProcessScrape[];
}

/** The text of one worker's /metrics. The web process holds the key, so it may scrape workers
 * listening beyond loopback. */
async function fetchMetrics(url: string): Promise<string> {
  const headers: Record<string, string> = { accept: "text/plain" };
  if (config.DEV_TOOLS_KEY) headers.authorization = `Bearer ${config.DEV_TOOLS_KEY}`;
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.text();
}

/**
 * Scrapes this process and every live worker and sums their series. A worker that fails to answer is
 * listed with its error and left out of the sum; this process's own numbers are always there.
 */
export async function scrapeAll(): Promise<MergedMetrics> {
  const at = Date.now();
  const own = parsePrometheusText(await registry.metrics());
  const workers = (await liveWorkers().catch(() => [])).flatMap((worker) =>
    worker.metricsUrl ? [worker.metricsUrl] : [],
  );
  const scraped = await Promise.all(
    workers.map(async (url) => {
      try {
        return { source: url, families: parsePrometheusText(await fetchMetrics(url)) };
      } catch (error) {
        return { source: url, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  const answered = scraped.flatMap((scrape) =>
    scrape.families ? [{ source: scrape.source, families: scrape.families }] : [],
  );
  const perProcess = [{ source: "web", families: own }, ...answered];
  return {
    at,
    families: mergeFamilies(perProcess.map((process) => process.families)),
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
