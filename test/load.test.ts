// `npm run load` as its own process against a running shop: its summary adds up, every order it says
// it placed is in the database under the run's tag, and nothing else was touched. Bad flags and a
// remote target are refused before any request.
//
// The shop here is the API and socket.io on one port, served exactly as the web process serves them
// (server/trpc/http.ts, server/realtime/server.ts), plus a real worker process: all the load process
// talks to. The pages (Next.js) need a build and are not needed: a shopper gets its session cookie
// from its first checkout's answer, as any visitor without one does.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  LIVE_ORDER_STATUSES,
  type LoadEvent,
  type LoadPlan,
  type LoadSummaryEvent,
  loadEventSchema,
  loadSettingsSchema,
  MAX_SHOPPERS,
  ORDER_STATUSES,
  percentile,
  RUSH_STOCK,
  UNDONE_ORDER_STATUSES,
} from "../server/contract";
import { loadFlags } from "../tools/load/entry";
import { readFlags } from "../tools/load/flags";

/** Orders nothing moves any more: neither a checkout under way nor a live order's side effects. */
const FINAL_STATUSES = ORDER_STATUSES.filter(
  (status) => status !== "pending" && !LIVE_ORDER_STATUSES.includes(status),
);

// A shop with locked developer tools, as on a network: the load process unlocks them with the key
// (here from the environment it inherits) to apply presets and read the queues.
const DEV_TOOLS_KEY = "load-test-key-0123456789";
process.env.DEV_TOOLS_KEY = DEV_TOOLS_KEY;

const { prisma } = await import("../server/db");
const { attachRealtime } = await import("../server/realtime/server");
const { apiHandlerOptions } = await import("../server/trpc/http");
const { closeConnections, createProduct, makeServicesFast, readOrder, waitForOrder } = await import(
  "./helpers"
);
const { exitOf, startWorkerProcess } = await import("./processes");

const handleApi = createHTTPHandler(apiHandlerOptions);
/** Every request that reached the shop, to prove a refused run sent none (or no checkout). */
const requests: string[] = [];
const server = createServer((req, res) => {
  requests.push(req.url ?? "");
  handleApi(req, res);
});
const realtime = attachRealtime(server);
const worker = startWorkerProcess();
let target = "";
/** This machine's address on a network, if it has one (IPv4, for a plain URL). */
const networkAddress = Object.values(networkInterfaces())
  .flat()
  .find((address) => address && !address.internal && address.family === "IPv4")?.address;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  worker.kill("SIGTERM");
  await exitOf(worker);
  await realtime.close();
  await new Promise((resolve) => server.close(resolve));
  await closeConnections();
});
beforeEach(makeServicesFast);

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runLoad(args: string[], env: Record<string, string> = {}): Promise<Finished> {
  const child = spawn(process.execPath, ["--import", "tsx", "tools/load/main.ts", ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
  return exitOf(child).then(({ code }) => ({ code, stdout, stderr }));
}

/** Every stdout line is an event of the contract: nothing else may be printed there with --json. */
function eventsOf(stdout: string): LoadEvent[] {
  return stdout
    .trimEnd()
    .split("\n")
    .map((line) => loadEventSchema.parse(JSON.parse(line)));
}

function summaryOf(events: LoadEvent[]): LoadSummaryEvent {
  const summary = events.at(-1);
  if (summary?.type !== "summary") throw new Error(`the last event is ${summary?.type}, not the summary`);
  return summary;
}

/** What the rest of the shop looks like: every order's version and status, every product's stock. */
async function snapshot() {
  const [orders, products] = await Promise.all([
    prisma.order.findMany({
      select: { id: true, version: true, status: true, customerEmail: true },
      orderBy: { id: "asc" },
    }),
    prisma.product.findMany({ select: { id: true, stock: true } }),
  ]);
  return { orders, stock: new Map(products.map((product) => [product.id, product.stock])) };
}

async function ordersOfRun(runId: string) {
  return prisma.order.findMany({
    where: { customerEmail: { endsWith: `.${runId}@load.example` } },
    include: { items: true },
  });
}

/** The run's orders are its own, the rest of the shop is as it was, and stock moved by what was sold. */
async function expectOnlyItsOwnOrders(
  before: Awaited<ReturnType<typeof snapshot>>,
  summary: LoadSummaryEvent,
) {
  const after = await snapshot();
  const tag = `.${summary.runId}@load.example`;
  // Orders that were final before the run are exactly as they were. One an earlier test file left
  // moving may settle meanwhile on its own (the worker's reconciler re-drives a step whose job that
  // file's private Redis took with it), so it is not held to its old version.
  const final = (order: { status: string }) => FINAL_STATUSES.some((status) => status === order.status);
  const finalBefore = before.orders.filter(final);
  const ids = new Set(finalBefore.map((order) => order.id));
  expect(after.orders.filter((order) => ids.has(order.id))).toEqual(finalBefore);
  expect(after.orders.filter((order) => order.customerEmail.endsWith(tag) === false).length).toBe(
    before.orders.length,
  );

  const orders = await ordersOfRun(summary.runId);
  // An order the shopper was told about (confirmed); undone ones gave their stock back.
  expect(orders.filter((order) => order.confirmedAt !== null)).toHaveLength(summary.placed);
  const kept = orders.filter((order) => !UNDONE_ORDER_STATUSES.some((status) => status === order.status));
  for (const order of orders) {
    const shopper = /^shopper-(\d+)\./.exec(order.customerEmail)?.[1];
    expect(order.customerName).toBe(`Load shopper ${shopper}`);
    expect(order.items.map((item) => item.quantity)).toEqual([1]);
  }
  const sold = new Map<string, number>();
  for (const item of kept.flatMap((order) => order.items)) {
    sold.set(item.productId, (sold.get(item.productId) ?? 0) + item.quantity);
  }
  for (const [productId, stock] of before.stock) {
    expect(stock - (after.stock.get(productId) ?? 0), productId).toBe(sold.get(productId) ?? 0);
  }
}

describe("npm run load", () => {
  it("runs closed-loop shoppers who watch their orders, and its summary is what happened", async () => {
    await createProduct({ stock: 10_000 });
    const before = await snapshot();
    const run = await runLoad([
      ...["--shoppers", "3", "--pause", "100ms", "--duration", "3s", "--watch", "--json"],
      ...["--target", target],
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const events = eventsOf(run.stdout);
    expect(events[0]).toMatchObject({
      type: "started",
      settings: { arrivals: { loop: "closed", shoppers: 3, pauseMs: 100 }, durationMs: 3000, watch: true },
    });
    expect(events.filter((event) => event.type === "progress").length).toBeGreaterThan(0);

    const summary = summaryOf(events);
    expect(summary.stoppedBy).toBe("duration");
    expect(summary.placed).toBeGreaterThan(0);
    expect(summary.errors).toEqual({});
    expect(summary.answered).toBe(summary.placed);
    expect(summary.sent).toBe(summary.answered + summary.abandoned);
    expect(summary.abandoned).toBe(0);
    // Each shopper watched its order over socket.io until it was done, before its next one.
    expect(summary.doneMs).toMatchObject({ measured: summary.placed, unsettled: 0 });
    expect(summary.catalogMs.calls).toBe(summary.sent);
    // The developer tools were unlocked with the key, so the queues were read.
    expect(summary.peakQueueDepth).not.toBeNull();
    await expectOnlyItsOwnOrders(before, summary);
    const orders = await ordersOfRun(summary.runId);
    expect(orders.map((order) => order.status)).toEqual(orders.map(() => "completed"));
  });

  it("sends a burst of sync checkouts at once and waits for every answer", async () => {
    await createProduct({ stock: 10_000 });
    const before = await snapshot();
    const run = await runLoad([
      "--burst",
      "8",
      "--mode",
      "sync",
      "--duration",
      "20s",
      "--json",
      "--target",
      target,
    ]);
    expect(run.code).toBe(0);
    const summary = summaryOf(eventsOf(run.stdout));
    expect(summary).toMatchObject({ stoppedBy: "burst-answered", sent: 8, answered: 8, abandoned: 0 });
    const errors = Object.values(summary.errors).reduce((sum, n) => sum + n, 0);
    expect(summary.answered).toBe(summary.placed + errors);
    // A sync checkout answers when it is done: its time to done comes with the answer.
    expect(summary.doneMs.measured).toBe(summary.placed);
    await expectOnlyItsOwnOrders(before, summary);
  });

  it("with --fraud, spreads fraudsters among the orders; screening cancels exactly theirs", async () => {
    await createProduct({ stock: 10_000 });
    const before = await snapshot();
    const run = await runLoad([
      "--burst",
      "8",
      "--fraud",
      "25%",
      "--duration",
      "20s",
      "--json",
      "--target",
      target,
    ]);
    expect(run.code).toBe(0);
    const summary = summaryOf(eventsOf(run.stdout));
    expect(summary).toMatchObject({ stoppedBy: "burst-answered", sent: 8, placed: 8 });
    const orders = await ordersOfRun(summary.runId);
    const fraudsters = orders.filter((order) => order.customerEmail.includes(".fraud."));
    expect(fraudsters).toHaveLength(2);
    for (const order of orders) {
      const settled = await waitForOrder(readOrder(order.id), (current) =>
        ["completed", "cancelled"].includes(current.status),
      );
      expect(settled.status).toBe(fraudsters.includes(order) ? "cancelled" : "completed");
    }
    await expectOnlyItsOwnOrders(before, summary);
  });

  it("refuses bad flags with exit code 2 and one line, before sending anything", async () => {
    const orders = await prisma.order.count();
    const bad: [string[], RegExp][] = [
      [["--shoppers=-3"], /shoppers must be at least 1/i],
      [["--shoppers", `${MAX_SHOPPERS + 1}`], /shoppers can be at most 500/i],
      [["--duration", "11m"], /duration can be at most 10m/i],
      [["--fraud", "120%"], /fraud can be at most 100%/i],
      [["--pause", "1 fortnight"], /pause takes a time with its unit/i],
      [["--rate", "5/s", "--burst", "3"], /one way for orders to arrive/i],
      [["--mode", "eventually"], /mode/i],
      [["--preset", "rush"], /preset/i],
      [["--loud"], /unknown option '--loud'/i],
    ];
    const before = requests.length;
    for (const [flags, message] of bad) {
      const run = await runLoad([...flags, "--target", target]);
      expect(run.code, flags.join(" ")).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split("\n"), flags.join(" ")).toHaveLength(1);
      expect(run.stdout).toBe("");
    }
    expect(requests.length).toBe(before);
    expect(await prisma.order.count()).toBe(orders);
    // Nine load processes, started one after another (each starts tsx: 1–4 s on a busy 2-core machine).
  }, 90_000);

  it("says why when a preset needs locked developer tools, and places no order", async () => {
    const orders = await prisma.order.count();
    const from = requests.length;
    const withoutKey = await runLoad(["--burst", "1", "--preset", "realistic", "--target", target], {
      DEV_TOOLS_KEY: "",
    });
    expect(withoutKey.code).toBe(1);
    expect(withoutKey.stderr).toMatch(/--preset needs the developer tools: they are locked.*--dev-key/);
    const wrongKey = await runLoad([
      ...["--burst", "1", "--preset", "realistic", "--dev-key", "not-the-key-at-all"],
      ...["--target", target],
    ]);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/refused the key/);
    expect(requests.slice(from).filter((url) => url.includes("order.place"))).toEqual([]);
    expect(await prisma.order.count()).toBe(orders);
  });

  it("refuses a target off this machine unless --allow-remote says so", async () => {
    const remote = "http://shop.example.invalid";
    const refused = await runLoad(["--burst", "1", "--target", remote]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/target shop\.example\.invalid is not this machine.*--allow-remote/i);
    // Allowed, it does try (and finds nothing: .invalid never resolves), so the refusal above was the
    // check and not a failed connection.
    const allowed = await runLoad(["--burst", "1", "--target", remote, "--allow-remote"]);
    expect(allowed.code).toBe(1);
    expect(allowed.stderr).toMatch(/cannot reach the shop at http:\/\/shop\.example\.invalid/);
  });

  it("reports every figure it took, and its progress line says the orders per second it saw", async () => {
    await createProduct({ stock: 10_000 });
    const run = await runLoad([
      ...["--shoppers", "3", "--pause", "100ms", "--duration", "3s", "--json"],
      ...["--target", target],
    ]);
    expect(run.code).toBe(0);
    const events = eventsOf(run.stdout);
    const summary = summaryOf(events);
    const measured = events.flatMap((event) => (event.type === "measured" ? [event] : []));
    const answers = measured.flatMap((event) => event.answers);
    const done = measured.flatMap((event) => event.done);
    // Every placed order's time to answer, each catalog call, and the time to done of each order followed.
    expect(answers).toHaveLength(summary.placed);
    expect(measured.flatMap((event) => event.catalog)).toHaveLength(summary.catalogMs.calls);
    expect(done).toHaveLength(summary.doneMs.measured);
    // The summary's percentiles are figures of those lists (nearest rank), not bucket edges.
    const sorted = answers.map((answer) => answer.ms).sort((a, b) => a - b);
    expect(summary.answerMs.p50).toBe(percentile(sorted, 0.5));
    // Time to done counts from the click, like the answer: never below the lowest answer.
    expect(Math.min(...done.map((figure) => figure.ms))).toBeGreaterThanOrEqual(sorted[0] ?? 0);
    // orders/s is placed ÷ the progress line's own window, to a tenth.
    const progress = events.flatMap((event) => (event.type === "progress" ? [event] : []));
    expect(progress.length).toBeGreaterThan(0);
    progress.forEach((line, index) => {
      const before = progress[index - 1] ?? { elapsedMs: 0, placed: 0 };
      const seconds = (line.elapsedMs - before.elapsedMs) / 1000;
      expect(Math.abs(line.ordersPerSecond * seconds - (line.placed - before.placed))).toBeLessThan(
        0.1 * seconds + 0.01,
      );
    });
  });

  it("on empty shelves stops at once and says how to restock, instead of measuring refusals", async () => {
    const shelves = await prisma.product.findMany({ select: { id: true, stock: true } });
    await prisma.product.updateMany({ data: { stock: 0 } });
    try {
      // Nothing in stock at the start: not one checkout.
      const from = requests.length;
      const empty = await runLoad(["--shoppers", "2", "--duration", "5s", "--json", "--target", target]);
      expect(empty.code).toBe(1);
      expect(empty.stderr).toMatch(
        /nothing in stock at http:\/\/127\.0\.0\.1:\d+.*--restock.*db:seed -- --restock/,
      );
      expect(requests.slice(from).filter((url) => url.includes("order.place"))).toEqual([]);

      // Three left: the run sells them and stops as soon as a shopper finds the shelves empty.
      await createProduct({ stock: 3 });
      const soldOut = await runLoad([
        ...["--shoppers", "2", "--pause", "0ms", "--duration", "60s", "--json"],
        ...["--target", target],
      ]);
      expect(soldOut.code).toBe(1);
      expect(soldOut.stderr).toMatch(/stopped: nothing in stock.*--restock/);
      const summary = summaryOf(eventsOf(soldOut.stdout));
      expect(summary.stoppedBy).toBe("out-of-stock");
      expect(summary.placed).toBe(3);
      // At most one refusal per shopper (the one that found the shelves empty), not a run of them.
      expect(summary.errors.NOTHING_IN_STOCK ?? 0).toBeLessThanOrEqual(2);

      // --restock tops every product up first, through the developer tools, and the run goes.
      const restocked = await runLoad([
        ...["--burst", "3", "--duration", "20s", "--restock", "--json"],
        ...["--target", target],
      ]);
      expect(restocked.code).toBe(0);
      expect(summaryOf(eventsOf(restocked.stdout))).toMatchObject({ stoppedBy: "burst-answered", placed: 3 });
      expect(await prisma.product.count({ where: { stock: { lt: RUSH_STOCK - 3 } } })).toBe(0);
    } finally {
      for (const { id, stock } of shelves) await prisma.product.update({ where: { id }, data: { stock } });
    }
  });

  it.skipIf(!networkAddress)(
    "never sends the environment's key to another machine; a key given with --dev-key goes there when needed",
    async () => {
      // The same shop reached through this machine's network address: a target off this machine.
      const remoteRequests: string[] = [];
      const remote = createServer((req, res) => {
        remoteRequests.push(req.url ?? "");
        handleApi(req, res);
      });
      await new Promise<void>((resolve) => remote.listen(0, "0.0.0.0", resolve));
      const away = `http://${networkAddress}:${(remote.address() as AddressInfo).port}`;
      const unlocks = () => remoteRequests.filter((url) => url.includes("dev.unlock"));
      try {
        await createProduct({ stock: 100 });
        // DEV_TOOLS_KEY is in this process's environment, which the load process inherits.
        const plain = await runLoad(["--burst", "1", "--target", away, "--allow-remote", "--json"]);
        expect(plain.stderr).toBe("");
        expect(plain.code).toBe(0);
        expect(summaryOf(eventsOf(plain.stdout)).placed).toBe(1);
        expect(unlocks()).toEqual([]);

        const preset = await runLoad([
          ...["--burst", "1", "--preset", "realistic", "--target", away, "--allow-remote"],
        ]);
        expect(preset.code).toBe(1);
        expect(preset.stderr).toMatch(
          /--preset needs the developer tools: they are locked, and the environment's DEV_TOOLS_KEY is not sent to another machine: pass --dev-key/,
        );
        expect(unlocks()).toEqual([]);

        const given = await runLoad([
          ...["--burst", "1", "--preset", "realistic", "--dev-key", DEV_TOOLS_KEY],
          ...["--target", away, "--allow-remote", "--json"],
        ]);
        expect(given.code).toBe(0);
        expect(unlocks()).toHaveLength(1);
      } finally {
        await makeServicesFast();
        await new Promise((resolve) => remote.close(resolve));
      }
    },
  );

  it("turns settings into flags and back without losing anything (what the /dev panel spawns)", () => {
    const common = { durationMs: 90_000, target, allowRemote: false, fraudShare: 0 };
    const plans: LoadPlan[] = [
      {
        ...common,
        arrivals: { loop: "closed", shoppers: 7, pauseMs: 1500 },
        mode: "async",
        preset: "realistic",
        watch: false,
        fraudShare: 0.1,
      },
      { ...common, arrivals: { loop: "rate", perSecond: 2.5 }, mode: "sync", preset: null, watch: true },
      {
        ...common,
        arrivals: { loop: "burst", orders: 40 },
        mode: "sync-parallel",
        preset: null,
        watch: false,
      },
    ];
    for (const plan of plans) {
      expect(loadSettingsSchema.parse(readFlags(loadFlags(plan)).settings)).toEqual(plan);
    }
  });

  it("accepts from the /dev panel exactly the numbers its command line accepts (one schema)", () => {
    const requests = [
      { rate: 1e-9 },
      { rate: 0.0000001 },
      { rate: 0.01 },
      { rate: 0.1 },
      { rate: 1 / 3 },
      { rate: 500 },
      { shoppers: 1e21 },
      { burst: 12 },
      { fraud: 1e-7 },
      { fraud: 12.5 },
      { pause: 1500, shoppers: 3 },
      { duration: 2_500 },
    ];
    for (const request of requests) {
      const fromPanel = loadSettingsSchema.safeParse({ request, target });
      if (!fromPanel.success) continue;
      // What the panel spawns: the plan's flags, read back by the command line.
      const fromFlags = loadSettingsSchema.safeParse(readFlags(loadFlags(fromPanel.data)).settings);
      expect(fromFlags.success, JSON.stringify(request)).toBe(true);
      expect(fromFlags.data, JSON.stringify(request)).toEqual(fromPanel.data);
    }
    const refused = (request: object) => !loadSettingsSchema.safeParse({ request, target }).success;
    expect(refused({ rate: 1e-9 }), "1e-9/s").toBe(true);
    expect(refused({ rate: 0.01 }), "0.01/s: one order in 100 s").toBe(true);
    expect(refused({ rate: 0.1 }), "0.1/s").toBe(false);
  });
});
