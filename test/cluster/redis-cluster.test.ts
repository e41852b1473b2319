// The shop on a Redis Cluster (3 primaries, 3 replicas, tools/lib/private-redis-cluster.ts) behind nginx:
// `npm run cluster -- --redis-cluster` as an operator runs it, then an async order end to end with its
// pushes, then a primary SIGKILLed in the middle of a rush (its replica takes over; clients follow the
// new topology), and the invariants over everything that was sold: no order lost or stuck, no effect
// twice, stock exact. A database of this file's own, so the invariants judge only these orders.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed, vi } from "vitest";
import { type Failover, PrivateRedisCluster } from "../../tools/lib/private-redis-cluster";

const dir = mkdtempSync(path.join(tmpdir(), "storefront-redis-cluster-test-"));
const redisCluster = new PrivateRedisCluster(dir);
await redisCluster.start();
process.env.REDIS_URL = redisCluster.url;

const { checkAll, stillMoving } = await import("../../tools/invariants/checks");
const { readSnapshot, writeBaseline } = await import("../../tools/invariants/read");
const { config } = await import("../../server/config");
const { updateSettings } = await import("../../server/downstream/settings");
const { prisma } = await import("../../server/db");
const { findOrderView } = await import("../../server/orders/view");
const { sideEffectQueue } = await import("../../server/queues");
const { redis } = await import("../../server/redis");
const { closeConnections, createProduct, downstreamCalls, makeServicesFast } = await import("../helpers");
const { freePortBlock, runCluster } = await import("./harness");
const { disconnectWatchers, expectFollowedToTheEnd, place, shopper, until, watcher } = await import(
  "./shoppers"
);

type ClusterRun = ReturnType<typeof runCluster>;
let run: ClusterRun;
let shop = "";
const baselineFile = path.join(dir, "baseline.json");
const products: string[] = [];

beforeAll(async () => {
  // This file's database holds only this run's orders and products: the invariants judge all of it.
  await prisma.$executeRaw`TRUNCATE "OrderItem", "OutboxMessage", "Order", "DownstreamCall", "Product" CASCADE`;
  await makeServicesFast();
  for (let index = 0; index < 3; index++) products.push((await createProduct({ stock: 1000 })).id);
  await writeBaseline(config.DATABASE_URL, baselineFile);
  // Repairs within seconds, as in the chaos soak: a lost job is re-driven 2 s later, an abandoned
  // checkout swept after 10 s, a dead worker's job taken over after 3 s.
  run = runCluster(["--web", "2", "--workers", "2", "--port", String(await freePortBlock(2))], {
    RECONCILE_EVERY_MS: "2000",
    SWEEPER_GRACE_MS: "10000",
    CHECKOUT_DEADLINE_MS: "4000",
  });
  shop = await run.ready;
});
beforeEach(() => {
  onTestFailed(() => console.info(`cluster output, last 80 lines:\n${run.lines.slice(-80).join("\n")}`));
});
afterAll(async () => {
  disconnectWatchers();
  if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGINT");
  await run.exit;
  await closeConnections();
  await redisCluster.stop();
  rmSync(dir, { recursive: true, force: true });
});

const SIDE_EFFECTS = ["fraud", "email", "analytics", "fulfillment"];

describe("the shop on a Redis Cluster", () => {
  it("spreads the queues over the primaries, each queue's keys in one slot", async () => {
    const owners = await Promise.all(
      SIDE_EFFECTS.map(async (step) => {
        const queue = sideEffectQueue(step as "email");
        // Every key of a queue shares the prefix's hash tag, hence one slot.
        const slots = new Set(
          await Promise.all(
            ["wait", "active", "delayed", "events"].map((type) =>
              redis("command").cluster("KEYSLOT", queue.toKey(type)),
            ),
          ),
        );
        expect(slots.size, step).toBe(1);
        return redisCluster.primaryOf(queue.toKey("wait"));
      }),
    );
    expect(new Set(owners).size).toBeGreaterThan(1);
  });

  it("takes an async order through nginx and pushes every step to its watcher", async () => {
    await updateSettings({ services: { fraud: { latencyMs: 200 }, email: { latencyMs: 200 } } });
    const { jar, cookie } = shopper();
    const placed = await place(shop, jar, products[0] ?? "");
    const watching = watcher(shop, cookie, true);
    await watching.watch(placed.id);
    await until("completed", () => watching.seen.latest?.status === "completed");

    const stored = await findOrderView({ id: placed.id });
    expectFollowedToTheEnd(watching.seen, stored);
    expect(await downstreamCalls("email", "send", `${placed.id}:receipt`)).toBe(1);
    watching.socket.disconnect();
  });

  it("loses nothing when a primary is SIGKILLed mid-rush: its replica takes over, every invariant holds", {
    timeout: 240_000,
  }, async () => {
    await makeServicesFast();
    await updateSettings({ services: { email: { latencyMs: 50 }, shipping: { latencyMs: 50 } } });
    const shoppers = 6;
    const killAfter = 30;
    const total = 120;
    const answered: string[] = [];
    const failures: string[] = [];
    let sent = 0;
    let failoverDone: () => void = () => {};
    const failedOver = new Promise<void>((resolve) => {
      failoverDone = resolve;
    });
    // The primary that holds the email queue (its jobs, locks and events): the queue's slots move.
    const victim = await redisCluster.primaryOf(sideEffectQueue("email").toKey("wait"));
    const killed: { failover: Failover | null; answeredBefore: number } = {
      failover: null,
      answeredBefore: 0,
    };

    const buyer = async (index: number) => {
      const { jar } = shopper();
      while (sent < total) {
        sent++;
        try {
          answered.push((await place(shop, jar, products[(index + sent) % products.length] ?? "")).id);
        } catch (error) {
          failures.push(error instanceof Error ? error.message.slice(0, 200) : String(error));
        }
        if (answered.length === killAfter && !killed.failover) {
          killed.answeredBefore = answered.length;
          killed.failover = await redisCluster.killPrimary(victim);
          failoverDone();
        }
      }
    };
    await Promise.all([...Array.from({ length: shoppers }, (_, index) => buyer(index)), failedOver]);
    const done = killed.failover;
    expect(done?.killed).toBe(victim);
    // Shoppers went on buying through the failover and after it.
    expect(answered.length).toBeGreaterThan(killed.answeredBefore);
    console.info(
      `failover: primary ${done?.killed} SIGKILLed, replica ${done?.promoted} serving its slots after ${done?.ms} ms; ` +
        `${answered.length} of ${total} checkouts answered, ${failures.length} refused (${[...new Set(failures)].join("; ")})`,
    );
    // The killed node comes back as a replica of the one that took over.
    await redisCluster.restart(victim);
    const rejoined = (await redisCluster.topology()).find((node) => node.port === victim);
    expect(rejoined?.role).toBe("replica");

    // Every order settles: nothing lost or stuck, then every invariant over the whole database.
    const readOptions = {
      databaseUrl: config.DATABASE_URL,
      baselineFile,
      redis: { url: config.REDIS_URL, prefix: config.REDIS_PREFIX },
    };
    // Long enough for every repair the shop has (a sweep, a re-drive, the retries' backoff): an order
    // younger than this that is not final yet is moving, not stuck.
    const movingMs = 60_000;
    const results = await vi.waitFor(
      async () => {
        const checked = checkAll(await readSnapshot(readOptions), movingMs);
        if (stillMoving(checked) > 0) throw new Error(`${stillMoving(checked)} still moving`);
        return checked;
      },
      { timeout: 120_000, interval: 1000 },
    );
    const held = results.filter((result) => !result.skipped);
    for (const result of held)
      expect(result.violations, `${result.name}: ${result.examples.join("; ")}`).toBe(0);
    expect(held.map((result) => result.name)).toContain("every job's order exists");
    for (const orderId of answered) {
      const order = await findOrderView({ id: orderId });
      expect(order?.status, orderId).toBe("completed");
      expect(await downstreamCalls("email", "send", `${orderId}:receipt`), orderId).toBe(1);
    }
    const redriven = run.lines.filter((line) => line.includes("re-drove a side effect")).length;
    console.info(`reconciler re-drives after the failover: ${redriven} (jobs the lost primary had taken)`);
  });
});
