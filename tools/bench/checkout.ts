// Benchmark: how long order.place takes, over real HTTP into the same tRPC handler the web process
// mounts, against the real Postgres and Redis. Prints the figures and the conditions they ran under.
//
//   npm run bench:checkout                      # gateway latency 0: the cost of the critical path itself
//   npm run bench:checkout -- --preset realistic --modes async,sync,sync-parallel --calls 40
//
// Options: --preset fast|realistic (knobs of the simulated services), --modes (comma list),
// --calls N per mode, --concurrency C (requests in flight). Uses its own database (storefront_bench,
// created, migrated and emptied here) and Redis namespace, so it disturbs nothing else.
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { z } from "zod";
import { checkoutModeSchema, percentile } from "../../server/contract";
import { readCommandLine } from "../lib/flags";
import { reasonOf, Supervisor } from "../lib/supervisor";

const options = readCommandLine(
  "bench:checkout",
  {
    preset: { type: "string", default: "fast" },
    modes: { type: "string", default: "async" },
    calls: { type: "string", default: "300" },
    concurrency: { type: "string", default: "1" },
    help: { type: "boolean", default: false },
  },
  z.object({
    preset: z.enum(["fast", "realistic"]),
    modes: z
      .string()
      .transform((list) => list.split(",").map((mode) => mode.trim()))
      .pipe(z.array(checkoutModeSchema).min(1)),
    calls: z.coerce.number().int().min(1).max(100_000),
    concurrency: z.coerce.number().int().min(1).max(500),
    help: z.boolean(),
  }),
  "usage: npm run bench:checkout -- [--preset fast|realistic] [--modes async,sync,sync-parallel] [--calls 300] [--concurrency 1]",
);

const { BENCH_PRODUCT, benchServices, closeBench, prepareBench } = await import("./env");
const { createHTTPServer } = await import("@trpc/server/adapters/standalone");
const { PRESETS } = await import("../../server/contract");
const { apiHandlerOptions } = await import("../../server/trpc/http");

const { modes, calls, concurrency } = options;
// Its one time limit (it starts no process of its own): 10 s per call of every mode and a minute, by
// which even the realistic preset's slowest sync checkout has long answered.
const limit = new Supervisor("bench:checkout", { limitMs: 60_000 + modes.length * (calls + 20) * 10_000 });
limit.signal.addEventListener("abort", () => {
  console.error(`bench:checkout: ${reasonOf(limit.signal, null)}`);
  process.exit(1);
});
await prepareBench(options.preset === "realistic" ? PRESETS.realistic.services : benchServices());

const server = createHTTPServer(apiHandlerOptions);
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/trpc/order.place`;
let cookie = "";

async function placeOnce(mode: string): Promise<number> {
  const body = JSON.stringify({
    items: [{ productId: BENCH_PRODUCT, quantity: 1 }],
    customer: { name: "Bench Mark", email: "bench@example.com" },
    idempotencyKey: randomUUID(),
    mode,
  });
  const started = performance.now();
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body,
  });
  await response.arrayBuffer();
  const elapsed = performance.now() - started;
  if (response.status !== 200) throw new Error(`order.place answered ${response.status}`);
  cookie ||= (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  return elapsed;
}

async function run(mode: string, count: number): Promise<{ times: number[]; wallMs: number }> {
  const times: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        next++;
        times.push(await placeOnce(mode));
      }
    }),
  );
  return { times, wallMs: performance.now() - started };
}

const ms = (value: number | null) => `${(value ?? 0).toFixed(1)} ms`;

console.info(
  `conditions: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, node ${process.version}, ` +
    `preset ${options.preset}, ${calls} calls per mode, concurrency ${concurrency}, one process (HTTP client and ` +
    `server share it), Postgres and Redis on localhost, no worker running (async confirmation does not wait for one)`,
);
for (const mode of modes) {
  await run(mode, Math.min(20, calls));
  const { times, wallMs } = await run(mode, calls);
  const sorted = [...times].sort((a, b) => a - b);
  console.info(
    `${mode.padEnd(13)} median ${ms(percentile(sorted, 0.5))}  p95 ${ms(percentile(sorted, 0.95))}  ` +
      `p99 ${ms(percentile(sorted, 0.99))}  max ${ms(sorted.at(-1) ?? 0)}  throughput ${((calls / wallMs) * 1000).toFixed(0)} orders/s`,
  );
}

server.close();
await closeBench();
await limit.stopAll();
