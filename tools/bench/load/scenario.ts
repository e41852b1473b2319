// One bench:load scenario: knobs set, closed-loop shoppers and one catalog reader driven for a warm-up
// and a measured window, the backlog drained, and the window's figures (throughput, latency, CPU, SQL,
// drain rate against its bound) computed from what was measured.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { CheckoutMode, ServiceName, SettingsPatch } from "../../../server/contract";
import {
  PLANNED_SIDE_EFFECTS,
  queueBound,
  queueName,
  SERVICE_NAMES,
  SIDE_EFFECT_STEPS,
  serviceSettingsSchema,
} from "../../../server/contract";
import { queuePrefixFor } from "../../../server/redis-target";
import { CookieJar } from "../../load/http";
import { cpuMs, GROUPS, type Group, referenceMs } from "./cpu";
import {
  FINAL_STATUSES,
  MAX_SCENARIO_S,
  options,
  PREFIX,
  SCENARIOS,
  type Scenario,
  type ScenarioName,
  STATS_SETTLE_MS,
  WORKER_CONCURRENCY_DEFAULT,
} from "./options";
import { query, shapeReport, shapeTimes, sqlCounters, waitDrained } from "./sql";
import { type Bench, call, stopping } from "./stack";

/** Every service instant and unlimited; "slow": payment 50 ms, the side effects' services 500 ms.
 * Consumers per queue as given, else each worker's own WORKER_CONCURRENCY. */
function knobs(slow: boolean, mode: CheckoutMode, consumers: number | null): SettingsPatch {
  const capacity = serviceSettingsSchema.shape.capacity.maxValue;
  if (capacity === null) throw new Error("the contract gives capacity no maximum");
  const latencyMs = (name: string) => (!slow || name === "inventory" ? 0 : name === "payment" ? 50 : 500);
  const service = (name: string) => ({
    latencyMs: latencyMs(name),
    jitterMs: 0,
    failureRate: 0,
    down: false,
    capacity,
  });
  return {
    defaultMode: mode,
    services: Object.fromEntries(SERVICE_NAMES.map((name) => [name, service(name)])),
    shop: { consumers: Object.fromEntries(SIDE_EFFECT_STEPS.map((step) => [step, consumers])) },
  };
}

export const KEYS = [
  "ordersPerS",
  "completedPerS",
  "catalogP50",
  "catalogPerS",
  "p50",
  "p90",
  "p99",
  ...GROUPS,
  "total",
  "sql",
  "xacts",
  "drainS",
  "drainPerS",
  "drainBoundPerS",
  "peakQueue",
  "client",
  "referenceBefore",
  "referenceAfter",
] as const;

export type Figures = Record<(typeof KEYS)[number], number>;

export interface Result {
  figures: Figures;
  errors: Map<string, number>;
  /** With --statements: where Postgres spent its time in the window. */
  statements: string | null;
}

/** One pipeline per queue: on a Redis Cluster a pipeline must stay in one slot, as a queue's keys do. */
async function queueDepth(redis: Bench["redis"]): Promise<number> {
  const target = { kind: redis.isCluster ? "cluster" : "single" } as const;
  const replies = await Promise.all(
    SIDE_EFFECT_STEPS.map((step) => {
      const key = `${queuePrefixFor(target, PREFIX, queueName(step))}:${queueName(step)}`;
      return redis.pipeline().llen(`${key}:wait`).zcard(`${key}:prioritized`).zcard(`${key}:delayed`).exec();
    }),
  );
  return replies
    .flatMap((reply) => reply ?? [])
    .reduce((sum, [, value]) => sum + (typeof value === "number" ? value : 0), 0);
}

const live = { phase: "", orders: 0, errors: 0, queue: 0, peakQueue: 0 };

/** `readers` closed-loop catalog readers (`product.list`) beside the shoppers, until `end`: the cheapest
 * read the same server answers, measured in the same window, is what the checkout's figures are judged
 * by. The latency of every read answered inside the window. */
async function readCatalog(bench: Bench, readers: number, end: number): Promise<number[]> {
  const latencies: number[] = [];
  const reader = async () => {
    while (performance.now() < end && !stopping()) {
      const start = performance.now();
      const reply = await call(bench.port, "product.list").catch(() => null);
      if (reply?.status === 200 && performance.now() <= end) latencies.push(performance.now() - start);
      if (!reply) await sleep(50);
    }
  };
  await Promise.all(Array.from({ length: readers }, reader));
  return latencies;
}

/** What the consumers and providers allow, in orders per second: an order needs one job of every
 * planned queue, so the slowest queue's bound (server/contract/drain.ts) bounds it. Null when the
 * providers are instant (no bound worth the name). */
function drainBound(knobs: SettingsPatch): number | null {
  const services = Object.fromEntries(
    SERVICE_NAMES.map((name) => [
      name,
      { latencyMs: knobs.services?.[name]?.latencyMs ?? 0, capacity: knobs.services?.[name]?.capacity ?? 1 },
    ]),
  ) as Record<ServiceName, { latencyMs: number; capacity: number }>;
  const bounds = PLANNED_SIDE_EFFECTS.map(
    (step) =>
      queueBound(step, services, knobs.shop?.consumers?.[step] ?? WORKER_CONCURRENCY_DEFAULT)
        .boundPerSecond ?? Number.POSITIVE_INFINITY,
  );
  const bound = Math.min(...bounds);
  return Number.isFinite(bound) ? bound : null;
}

async function drive(bench: Bench, jars: CookieJar[], mode: CheckoutMode, seconds: number) {
  const samples: { start: number; end: number; status: string }[] = [];
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    jars.map(async (jar, index) => {
      const productId = bench.products[index % bench.products.length] ?? "";
      const customer = { name: `Shopper ${index}`, email: `shopper${index}@example.com` };
      while (performance.now() < end && !stopping()) {
        const input = { items: [{ productId, quantity: 1 }], customer, idempotencyKey: randomUUID(), mode };
        const start = performance.now();
        const reply = await call(bench.port, "order.place", input, jar).catch(() => null);
        samples.push({ start, end: performance.now(), status: reply ? `${reply.status}` : "network" });
        if (reply?.status === 200) live.orders++;
        else live.errors++;
        if (!reply) await sleep(50);
      }
    }),
  );
  return { samples, end, stoppedAt: performance.now() };
}

export async function runScenario(bench: Bench, name: ScenarioName, label: string): Promise<Result> {
  const scenario: Scenario = SCENARIOS[name];
  const { shoppers, mode, slow, readers = 1 } = scenario;
  const seconds = slow ? options["slow-duration"] : options.duration;
  const deadline = Date.now() + MAX_SCENARIO_S * 1000 - 2 * STATS_SETTLE_MS;
  const settings = knobs(slow, mode, scenario.consumers ?? null);
  const set = await call(bench.port, "dev.updateSettings", settings);
  if (set.status !== 200) throw new Error(`dev.updateSettings answered ${set.status}: ${set.body}`);
  const jars = Array.from({ length: shoppers }, () => new CookieJar());
  Object.assign(live, { phase: "warm-up", orders: 0, errors: 0, queue: 0, peakQueue: 0 });
  const startedAt = performance.now();
  const ticker = setInterval(() => {
    const line = `${label} ${live.phase} ${((performance.now() - startedAt) / 1000).toFixed(0)} s: ${live.orders} orders, ${live.errors} errors, queue ${live.queue}`;
    process.stderr.write(process.stderr.isTTY ? `\r\x1b[K${line}` : `${line}\n`);
    queueDepth(bench.redis).then(
      (depth) => {
        live.queue = depth;
        if (live.phase === "measure" || live.phase === "drain")
          live.peakQueue = Math.max(live.peakQueue, depth);
      },
      () => {},
    );
  }, 1000);
  try {
    const warmupFrom = new Date();
    if (options.warmup > 0) await drive(bench, jars, mode, options.warmup);
    live.phase = "warm-up drain";
    if (!(await waitDrained(bench, warmupFrom, deadline))) throw new Error(`${name}: warm-up never drained`);
    live.phase = "settle";
    await sleep(STATS_SETTLE_MS);

    // How fast the cores were just before the window, and just after (they change from minute to minute).
    const referenceBefore = referenceMs();
    const sqlBefore = await sqlCounters(bench);
    const shapesBefore = options.statements && bench.statements ? await shapeTimes(bench) : null;
    const cpuBefore = cpuMs(bench.pids);
    const clientBefore = process.cpuUsage();
    const since = new Date();
    Object.assign(live, { phase: "measure", orders: 0, errors: 0 });
    const [load, catalog] = await Promise.all([
      drive(bench, jars, mode, seconds),
      readCatalog(bench, readers, performance.now() + seconds * 1000),
    ]);
    // The window's own end, for every figure: answers after it (in flight when it closed) are not in it.
    const windowEnd = new Date(since.getTime() + seconds * 1000);
    const { n: backlog } = await query(
      bench,
      `SELECT count(*)::int AS n FROM "Order"
       WHERE status <> ALL($1::text[]) AND "createdAt" >= ($2::timestamptz AT TIME ZONE 'UTC')`,
      [FINAL_STATUSES, since.toISOString()],
    );
    live.phase = "drain";
    const drained = await waitDrained(bench, since, deadline);
    const drainedAt = performance.now();
    const cpuAfter = cpuMs(bench.pids);
    const client = process.cpuUsage(clientBefore);
    const referenceAfter = referenceMs();
    live.phase = "settle";
    await sleep(STATS_SETTLE_MS);
    const { n: completedInWindow } = await query(
      bench,
      `SELECT count(*)::int AS n FROM "Order" WHERE status = 'completed'
       AND "createdAt" >= ($1::timestamptz AT TIME ZONE 'UTC') AND "settledAt" <= ($2::timestamptz AT TIME ZONE 'UTC')`,
      [since.toISOString(), windowEnd.toISOString()],
    );
    const sqlAfter = await sqlCounters(bench);
    const shapesAfter = shapesBefore ? await shapeTimes(bench) : null;

    const ok = load.samples.filter((sample) => sample.status === "200");
    const latencies = ok.map((sample) => sample.end - sample.start).sort((a, b) => a - b);
    const pct = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
    const perOrder = (value: number) => (ok.length > 0 ? value / ok.length : Number.NaN);
    const cpu = Object.fromEntries(GROUPS.map((g) => [g, perOrder(cpuAfter[g] - cpuBefore[g])])) as Record<
      Group,
      number
    >;
    const errors = new Map<string, number>();
    for (const { status } of load.samples)
      if (status !== "200") errors.set(status, (errors.get(status) ?? 0) + 1);
    const catalogSorted = [...catalog].sort((a, b) => a - b);
    const drainS = drained && shoppers > 0 ? (drainedAt - load.stoppedAt) / 1000 : Number.NaN;
    const figures: Figures = {
      ordersPerS: ok.filter((sample) => sample.end <= load.end).length / seconds,
      completedPerS: Number(completedInWindow) / seconds,
      catalogP50: catalogSorted[Math.floor(catalogSorted.length / 2)] ?? Number.NaN,
      catalogPerS: catalog.length / seconds,
      p50: pct(0.5),
      p90: pct(0.9),
      p99: pct(0.99),
      ...cpu,
      total: GROUPS.reduce((sum, g) => sum + cpu[g], 0),
      // The catalog reader's reads are one statement (and transaction) each: not the order path's.
      sql: perOrder(sqlAfter.statements - sqlBefore.statements - catalog.length),
      xacts: perOrder(sqlAfter.xacts - sqlBefore.xacts - catalog.length),
      drainS,
      // Orders still moving when the window closed, over how long they took to finish.
      drainPerS: drainS > 0 ? Number(backlog) / drainS : Number.NaN,
      drainBoundPerS: drainBound(settings) ?? Number.NaN,
      peakQueue: live.peakQueue,
      client: perOrder((client.user + client.system) / 1000),
      referenceBefore,
      referenceAfter,
    };
    const statements = shapesBefore && shapesAfter ? shapeReport(shapesBefore, shapesAfter, ok.length) : null;
    return { figures, errors, statements };
  } finally {
    clearInterval(ticker);
    if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
  }
}
