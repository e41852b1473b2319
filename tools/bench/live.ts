// Benchmark: from a side effect finishing in the worker process to a real browser showing it.
// Starts the built app (web + worker) on its own free ports (the web's and the worker's metrics
// port, so it runs beside a shop), database and Redis namespace, opens each order's page in Chromium
// and notes, with a MutationObserver, when each step's row turns "succeeded"; compares that with the
// step's finishedAt written by the worker (same machine clock). Its processes run on the tools'
// supervisor: it gives up with a message (and the process's last log lines) when one of them exits,
// on Ctrl+C, or when the whole run takes longer than --time-limit-s.
//
//   npm run build && npm run bench:live            # 100 orders (400 steps)
//   npm run bench:live -- --orders 200 --time-limit-s 600
import { existsSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type Browser, chromium } from "@playwright/test";
import getPort from "get-port";
import { z } from "zod";
import { readCommandLine } from "../lib/flags";
import { reasonOf, Supervisor } from "../lib/supervisor";

const { orders, "time-limit-s": timeLimitS } = readCommandLine(
  "bench:live",
  {
    orders: { type: "string", default: "100" },
    "time-limit-s": { type: "string", default: "300" },
    help: { type: "boolean", default: false },
  },
  z.object({
    orders: z.coerce.number().int("--orders takes a whole number").min(1, "--orders must be 1 or more"),
    "time-limit-s": z.coerce.number().positive("--time-limit-s takes a number of seconds greater than 0"),
    help: z.boolean(),
  }),
  "usage: npm run bench:live -- [--orders 100] [--time-limit-s 300]   (after npm run build)",
);
if (!existsSync(".next/BUILD_ID")) throw new Error("No production build: run `npm run build` first.");

const port = await getPort({ host: "127.0.0.1" });
const base = `http://127.0.0.1:${port}`;
const { BENCH_PRODUCT, benchEnv, benchServices, closeBench, prepareBench } = await import("./env");
const { SIDE_EFFECT_STEPS } = await import("../../server/contract");
const { findOrderView } = await import("../../server/orders/view");
const env = {
  ...process.env,
  ...benchEnv,
  PORT: String(port),
  WORKER_METRICS_PORT: String(await getPort({ host: "127.0.0.1", exclude: [port] })),
  NODE_ENV: "production" as const,
};

// Side effects take a few hundred ms, so their completions arrive while the page is open.
const latencies = { fraud: 400, email: 600, analytics: 500, shipping: 300 };
await prepareBench(benchServices(latencies));

// Notes every step row's status and when it changed, starting with what the page shows now. A string,
// not a function: tsx would wrap a function's inner helpers in a helper the page does not have.
const WATCH_STEP_ROWS = `(() => {
  const seen = [];
  window.__seen = seen;
  const note = (element) => {
    if (element instanceof HTMLElement && element.dataset.step && element.dataset.status) {
      seen.push({ step: element.dataset.step, status: element.dataset.status, at: Date.now() });
    }
  };
  for (const row of document.querySelectorAll("li[data-step]")) note(row);
  new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      if (mutation.type === "attributes") note(mutation.target);
      for (const node of mutation.addedNodes) {
        if (node instanceof Element) {
          note(node);
          for (const child of node.querySelectorAll("li[data-step]")) note(child);
        }
      }
    }
  }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-status"] });
})()`;

// The web and worker processes under the tools' supervisor: the bench ends when its work is done, when
// one of them exits under it (the message quotes its last log lines), on Ctrl+C, or past its limit.
const supervisor = new Supervisor("bench:live", { limitMs: timeLimitS * 1000 });
const logs = mkdtempSync(path.join(os.tmpdir(), "bench-live-"));
for (const [name, entry] of [
  ["web", "server/main.ts"],
  ["worker", "workers/index.ts"],
] as const) {
  const output = { file: path.join(logs, `${name}.log`) };
  supervisor.start({ name, argv: [process.execPath, "--import", "tsx", entry], env, output });
}

/** The browser the bench opened, closed however the bench ends. */
const opened: Browser[] = [];

async function bench(): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (
    !(await fetch(`${base}/api/health`)
      .then((response) => response.ok)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error("the app did not start");
    await supervisor.pause(200);
  }

  const executablePath =
    process.env.CHROMIUM_PATH || (existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined);
  const browser = await chromium.launch({
    executablePath,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
    ],
  });
  opened.push(browser);
  if (supervisor.signal.aborted) return; // the bench gave up while the browser started
  const page = await browser.newPage();
  await page.goto(base);

  const lags: number[] = [];
  let shownBeforeLoad = 0;
  for (let index = 0; index < orders; index++) {
    const orderId = await page.evaluate(async (product) => {
      const response = await fetch("/api/trpc/order.place", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          items: [{ productId: product, quantity: 1 }],
          customer: { name: "Bench Mark", email: "bench@example.com" },
          idempotencyKey: crypto.randomUUID(),
          mode: "async",
        }),
      });
      const json = (await response.json()) as { result: { data: { id: string } } };
      return json.result.data.id;
    }, BENCH_PRODUCT);
    await page.goto(`${base}/orders/${orderId}`);
    await page.waitForSelector("li[data-step]");
    await page.evaluate(WATCH_STEP_ROWS);
    await page.waitForFunction(
      (count) => document.querySelectorAll('li[data-step][data-status="succeeded"]').length >= count,
      7,
      { timeout: 30_000 },
    );
    const seen = (await page.evaluate(() => (window as unknown as { __seen: unknown }).__seen)) as {
      step: string;
      status: string;
      at: number;
    }[];
    const steps = (await findOrderView({ id: orderId }))?.steps ?? [];
    for (const step of SIDE_EFFECT_STEPS) {
      const finishedAt = Date.parse(steps.find((row) => row.name === step)?.finishedAt ?? "");
      const mine = seen.filter((entry) => entry.step === step);
      const shown = mine.find((entry) => entry.status === "succeeded");
      // Only steps the page watched change live count; one already done at first paint came from the snapshot.
      if (!finishedAt || !shown || mine[0]?.status === "succeeded") {
        shownBeforeLoad++;
        continue;
      }
      lags.push(shown.at - finishedAt);
    }
  }
  const sorted = [...lags].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
  console.info(
    `conditions: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, node ${process.version}, headless Chromium, ` +
      `1 web + 1 worker process, Postgres and Redis on localhost, ${orders} async orders one at a time, ` +
      `side-effect latencies ${JSON.stringify(latencies)} ms`,
  );
  console.info(
    `step finished in worker → row shown in browser: ${sorted.length} steps, median ${at(0.5)} ms, ` +
      `p95 ${at(0.95)} ms, p99 ${at(0.99)} ms, max ${sorted.at(-1)} ms ` +
      `(${shownBeforeLoad} steps were already done when the page loaded and are not counted)`,
  );
}

try {
  await supervisor.until(bench());
} catch (error) {
  console.error(`bench:live gave up: ${reasonOf(supervisor.signal, error)}`);
  process.exitCode = 1;
} finally {
  await Promise.all(opened.map((browser) => browser.close()));
  await supervisor.stopAll();
  await closeBench();
}
