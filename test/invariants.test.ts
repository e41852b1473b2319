// The invariant checker (`npm run check:invariants`): its rules on hand-made snapshots, then the real
// script on a database of this file's own: real orders through the real checkout hold every invariant
// (exit 0); a shipment missing from the ledger, stock that appeared from nowhere and an order stuck
// `placed` are each caught (exit 1) and named.
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  authorizationsSettled,
  checkAll,
  completedOrdersInLedger,
  ledgersFollowStateMachines,
  noEffectTwice,
  type OrderFacts,
  ordersSettled,
  type Snapshot,
  stockConserved,
  undoneOrdersCompensated,
} from "../tools/invariants/checks";
import { writeBaseline } from "../tools/invariants/read";
import { atMost, privateRedis } from "./processes";

const NOW = new Date("2026-11-29T10:00:00Z");
const ALL_SUCCEEDED = Object.fromEntries(
  ["inventory", "payment", "order", "fraud", "email", "analytics", "fulfillment"].map((step) => [
    step,
    "succeeded",
  ]),
);

function order(facts: Partial<OrderFacts> = {}): OrderFacts {
  return {
    id: randomUUID(),
    mode: "async",
    status: "completed",
    createdAt: new Date(NOW.getTime() - 60_000),
    steps: ALL_SUCCEEDED,
    items: [{ productId: "p1", quantity: 2 }],
    ...facts,
  };
}

/** The order's ledger, in the order given (a millisecond apart). */
function calls(orderId: string, operations: string[]): Snapshot["calls"] {
  return operations.map((operation, index) => {
    const [service = "", name = ""] = operation.split(".");
    const createdAt = new Date(NOW.getTime() - 10_000 + index);
    return { service, operation: name, idempotencyKey: orderId, orderId, createdAt };
  });
}

const FULL_LEDGER = ["payment.authorize", "payment.capture", "shipping.ship", "email.send"];

function snapshot(facts: Partial<Snapshot>): Snapshot {
  return {
    now: NOW,
    orders: [],
    calls: [],
    outbox: [],
    stock: {},
    baseline: { source: "test", stock: {} },
    jobs: null,
    jobsSkipped: "not asked",
    ...facts,
  };
}

describe("the rules", () => {
  it("tells a moving order from a stuck one, and an explained one from an unexplained one", () => {
    const running = { ...ALL_SUCCEEDED, fulfillment: "running" };
    const young = order({ status: "placed", steps: running, createdAt: new Date(NOW.getTime() - 5_000) });
    const stuck = order({ status: "pending", createdAt: new Date(NOW.getTime() - 120_000) });
    const attention = order({ status: "needs_attention", steps: { ...ALL_SUCCEEDED, email: "failed" } });
    const unexplained = order({ status: "needs_attention" });
    const nothingToRun = order({ status: "placed", createdAt: new Date(NOW.getTime() - 1_000) });
    const orders = [young, stuck, attention, unexplained, nothingToRun];
    const result = ordersSettled(snapshot({ orders }), 30_000);
    expect(result).toMatchObject({ checked: 5, moving: 1, violations: 3 });
    expect(result.examples.join("\n")).toContain(
      `${nothingToRun.id.slice(0, 8)} (async) placed with nothing left to run`,
    );
    expect(result.examples.join("\n")).toContain(`${stuck.id.slice(0, 8)} (async) still pending after 120 s`);
    expect(result.examples.join("\n")).toContain("needs attention without a dead-lettered step");
  });

  it("holds an undone order final only once no step of it is still running or owes its undo", () => {
    const undone = { ...ALL_SUCCEEDED, inventory: "compensated", fraud: "rejected" };
    const minuteAgo = new Date(NOW.getTime() - 60_000);
    const done = order({ status: "cancelled", steps: undone, createdAt: minuteAgo });
    const undoOnItsWay = order({
      status: "cancelled",
      steps: { ...undone, payment: "compensating" },
      createdAt: new Date(NOW.getTime() - 5_000),
    });
    const shipmentLeftRunning = order({
      status: "failed",
      steps: { ...undone, fraud: "succeeded", fulfillment: "running" },
      createdAt: minuteAgo,
    });
    const result = ordersSettled(snapshot({ orders: [done, undoOnItsWay, shipmentLeftRunning] }), 30_000);
    expect(result).toMatchObject({ checked: 3, moving: 1, violations: 1 });
    expect(result.examples).toEqual([
      `${shipmentLeftRunning.id.slice(0, 8)} (async) failed, yet fulfillment running after 60 s`,
    ]);
  });

  it("wants one capture, receipt and shipment per completed order, and sees a capture under a second key", () => {
    const whole = order();
    const noShipment = order();
    const twice = order();
    const ledger = [
      ...calls(whole.id, FULL_LEDGER),
      ...calls(noShipment.id, ["payment.authorize", "payment.capture", "email.send"]),
      ...calls(twice.id, FULL_LEDGER),
      {
        service: "payment",
        operation: "capture",
        idempotencyKey: `${twice.id}:again`,
        orderId: twice.id,
        createdAt: NOW,
      },
    ];
    const facts = snapshot({ orders: [whole, noShipment, twice], calls: ledger });
    expect(completedOrdersInLedger(facts).examples).toEqual([
      `${noShipment.id.slice(0, 8)} (async): shipping.ship 0≠1`,
      `${twice.id.slice(0, 8)} (async): payment.capture 2≠1`,
    ]);
    expect(noEffectTwice(facts).examples).toEqual([`${twice.id.slice(0, 8)}: payment.capture ×2`]);

    // A cancellation email after the receipt corrects it: not the receipt twice.
    const corrected = order({ status: "cancelled" });
    const correction = {
      service: "email",
      operation: "send",
      idempotencyKey: `${corrected.id}:cancellation`,
      createdAt: NOW,
    };
    const withCorrection = snapshot({
      orders: [corrected],
      calls: [...calls(corrected.id, ["email.send"]), { ...correction, orderId: corrected.id }],
    });
    expect(noEffectTwice(withCorrection).violations).toBe(0);
  });

  it("wants an undone order's authorization voided once and its stock back", () => {
    const compensated = {
      ...ALL_SUCCEEDED,
      inventory: "compensated",
      payment: "compensated",
      fraud: "rejected",
    };
    const voided = order({ status: "cancelled", steps: compensated });
    const heldForNothing = order({ status: "cancelled", steps: compensated });
    const stockKept = order({ status: "failed", steps: { ...compensated, inventory: "succeeded" } });
    const declined = order({ status: "failed", steps: { ...compensated, payment: "failed" } });
    const result = undoneOrdersCompensated(
      snapshot({
        orders: [voided, heldForNothing, stockKept, declined],
        calls: [
          ...calls(voided.id, ["payment.authorize", "payment.void"]),
          ...calls(heldForNothing.id, ["payment.authorize"]),
          ...calls(stockKept.id, ["payment.authorize", "payment.void"]),
        ],
      }),
      30_000,
    );
    expect(result.examples).toEqual([
      `${heldForNothing.id.slice(0, 8)} (cancelled): authorized, voided/refunded 0×`,
      `${stockKept.id.slice(0, 8)} (failed): inventory succeeded`,
    ]);
  });

  it("wants every final order's authorization captured or voided, and waits for an undo still owed", () => {
    const captured = order();
    // A fraud dead letter discarded the old way: completed, screening and fulfillment skipped.
    const neverScreened = order({ steps: { ...ALL_SUCCEEDED, fraud: "skipped", fulfillment: "skipped" } });
    const voidOwed = {
      ...ALL_SUCCEEDED,
      inventory: "compensated",
      payment: "compensating",
      fraud: "rejected",
    };
    const owedNow = order({
      status: "cancelled",
      steps: voidOwed,
      createdAt: new Date(NOW.getTime() - 5_000),
    });
    const owedLong = order({ status: "cancelled", steps: voidOwed });
    const voided = order({ status: "failed", steps: { ...voidOwed, payment: "compensated" } });
    const stillLive = order({ status: "needs_attention", steps: { ...ALL_SUCCEEDED, fraud: "failed" } });
    const facts = snapshot({
      orders: [captured, neverScreened, owedNow, owedLong, voided, stillLive],
      calls: [
        ...calls(captured.id, FULL_LEDGER),
        ...calls(neverScreened.id, ["payment.authorize", "email.send"]),
        ...calls(owedNow.id, ["payment.authorize"]),
        ...calls(owedLong.id, ["payment.authorize"]),
        ...calls(voided.id, ["payment.authorize", "payment.void"]),
        ...calls(stillLive.id, ["payment.authorize"]),
      ],
    });
    expect(authorizationsSettled(facts, 30_000)).toMatchObject({
      checked: 5,
      moving: 1,
      examples: [
        `${neverScreened.id.slice(0, 8)} (completed, async): authorized, neither captured nor voided (payment succeeded)`,
        `${owedLong.id.slice(0, 8)} (cancelled, async): authorized, neither captured nor voided (payment compensating)`,
      ],
    });
    // The undo owed is moving for the undone-orders rule as well, and stuck once older than the bound.
    expect(undoneOrdersCompensated(facts, 30_000)).toMatchObject({ moving: 1, violations: 1 });
    expect(checkAll(facts, 30_000).find((result) => result.name.startsWith("final orders"))?.violations).toBe(
      2,
    );
  });

  it("conserves stock: initial − sold + returned", () => {
    const sold = order();
    const returned = order({ status: "failed", steps: { ...ALL_SUCCEEDED, inventory: "compensated" } });
    const facts = (current: number) =>
      snapshot({
        orders: [sold, returned],
        stock: { p1: current, other: 7 },
        baseline: { source: "test", stock: { p1: 10 } },
      });
    expect(stockConserved(facts(8))).toMatchObject({ checked: 1, violations: 0 });
    expect(stockConserved(facts(9)).examples).toEqual(["p1: stock 9, expected 8"]);
  });

  it("counts a unit shipped on an undone order as gone unless its shipment was cancelled", () => {
    const undone = { ...ALL_SUCCEEDED, inventory: "compensated", payment: "compensated" };
    const shippedAnyway = order({ status: "failed", steps: undone });
    const shipmentCancelled = order({ status: "failed", steps: undone });
    const facts = (current: number) =>
      snapshot({
        orders: [shippedAnyway, shipmentCancelled],
        calls: [
          ...calls(shippedAnyway.id, [
            "payment.authorize",
            "payment.capture",
            "payment.refund",
            "shipping.ship",
          ]),
          ...calls(shipmentCancelled.id, [
            "payment.authorize",
            "payment.capture",
            "shipping.ship",
            "shipping.cancel",
          ]),
        ],
        stock: { p1: current },
        baseline: { source: "test", stock: { p1: 10 } },
      });
    // Both orders' steps say the stock went back; one order's two units are on a lorry.
    expect(stockConserved(facts(8))).toMatchObject({ violations: 0 });
    expect(stockConserved(facts(10)).examples).toEqual(["p1: stock 10, expected 8"]);
  });

  it("replays every authorization and shipment through its provider's state machine", () => {
    const fine = order({ status: "failed" });
    const voidedAfterCapture = order({ status: "failed" });
    const shippedAfterCancel = order({ status: "failed" });
    const result = ledgersFollowStateMachines(
      snapshot({
        calls: [
          ...calls(fine.id, [
            "payment.authorize",
            "payment.capture",
            "shipping.ship",
            "shipping.cancel",
            "payment.refund",
          ]),
          ...calls(voidedAfterCapture.id, ["payment.authorize", "payment.capture", "payment.void"]),
          ...calls(shippedAfterCancel.id, ["payment.authorize", "shipping.cancel", "shipping.ship"]),
        ],
      }),
    );
    expect(result).toMatchObject({ checked: 5, violations: 2 });
    expect(result.examples).toEqual([
      `${voidedAfterCapture.id.slice(0, 8)} payment: void when captured (authorize → capture → void)`,
      `${shippedAfterCancel.id.slice(0, 8)} shipping: ship when cancelled (cancel → ship)`,
    ]);
  });

  it("skips what it cannot know, and says why", () => {
    const results = checkAll(snapshot({}), 1000);
    expect(results.find((result) => result.name === "every job's order exists")?.skipped).toBe("not asked");
    expect(results.every((result) => result.violations === 0)).toBe(true);
  });
});

describe("npm run check:invariants on a real database", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "invariants-"));
  const baseline = path.join(dir, "baseline.json");
  let redisServer: Awaited<ReturnType<typeof privateRedis>>;
  let helpers: typeof import("./helpers");
  let prisma: typeof import("../server/db")["prisma"];
  const orderIds: string[] = [];

  function check(...flags: string[]): { code: number | null; report: { held: boolean; results: Result[] } } {
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "tools/invariants/main.ts", "--baseline", baseline, "--jobs", "--json", ...flags],
      { env: process.env, encoding: "utf8" },
    );
    if (run.status === 2 || !run.stdout) throw new Error(`check:invariants failed: ${run.stderr}`);
    return { code: run.status, report: JSON.parse(run.stdout) };
  }
  type Result = ReturnType<typeof checkAll>[number];
  const named = (results: Result[], name: string) => results.find((result) => result.name.startsWith(name));

  beforeAll(async () => {
    redisServer = await privateRedis();
    ({ prisma } = await import("../server/db"));
    helpers = await import("./helpers");
    // This file's own database: start from nothing so only these orders are judged.
    await prisma.$executeRawUnsafe(
      `TRUNCATE "OrderItem", "OutboxMessage", "Order", "DownstreamCall", "Product" CASCADE`,
    );
    await helpers.makeServicesFast();
    const product = await helpers.createProduct({ stock: 20 });
    await writeBaseline(process.env.DATABASE_URL ?? "", baseline);
    const caller = helpers.callerFor();
    for (const email of ["ada@example.com", "grace@example.com", "fraud@example.com"]) {
      const placed = await caller.order.place(
        helpers.orderInput(product.id, { mode: "sync", customer: { name: "Shopper", email } }),
      );
      orderIds.push(placed.id);
    }
  });

  afterAll(async () => {
    await atMost(20_000, helpers.closeConnections());
    await redisServer.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("holds for orders the real checkout made (two completed, one cancelled by fraud screening)", async () => {
    const statuses = await prisma.order.findMany({
      where: { id: { in: orderIds } },
      select: { status: true },
    });
    expect(statuses.map((row) => row.status).sort()).toEqual(["cancelled", "completed", "completed"]);
    const { code, report } = check();
    expect(report.held).toBe(true);
    expect(code).toBe(0);
    expect(named(report.results, "completed")?.checked).toBe(2);
    expect(named(report.results, "cancelled/failed")?.checked).toBe(1);
    expect(named(report.results, "stock")?.checked).toBe(1);
    expect(named(report.results, "every job's order exists")?.skipped).toBeNull();
  });

  it("catches a completed order missing its shipment", async () => {
    const [first] = orderIds;
    await prisma.downstreamCall.deleteMany({
      where: { service: "shipping", operation: "ship", idempotencyKey: first },
    });
    const { code, report } = check();
    expect(code).toBe(1);
    expect(named(report.results, "completed")?.examples).toEqual([
      `${first?.slice(0, 8)} (sync): shipping.ship 0≠1`,
    ]);
  });

  it("catches a final order whose authorization was neither captured nor voided", async () => {
    const cancelled = orderIds[2] ?? "";
    await prisma.downstreamCall.deleteMany({
      where: { service: "payment", operation: "void", idempotencyKey: cancelled },
    });
    const { code, report } = check();
    expect(code).toBe(1);
    expect(named(report.results, "final orders")?.examples).toEqual([
      `${cancelled.slice(0, 8)} (cancelled, sync): authorized, neither captured nor voided (payment compensated)`,
    ]);
  });

  it("catches stock from nowhere and an order stuck placed", async () => {
    await prisma.product.updateMany({ data: { stock: { increment: 1 } } });
    const second = orderIds[1] ?? "";
    await prisma.$executeRaw`UPDATE "Order" SET "status" = 'placed', "createdAt" = now() - interval '1 hour',
      "steps" = jsonb_set("steps", '{fulfillment,status}', '"running"') WHERE "id" = ${second}`;
    const { code, report } = check("--moving-bound", "60");
    expect(code).toBe(1);
    expect(named(report.results, "stock")?.violations).toBe(1);
    expect(named(report.results, "every order final")?.examples).toEqual([
      expect.stringMatching(new RegExp(`^${second.slice(0, 8)} \\(sync\\) still placed after \\d+ s$`)),
    ]);
  });
});
