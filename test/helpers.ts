// Shared test fixtures: products of a test's own, fast downstream knobs, and a tRPC caller per
// session (no HTTP, real Postgres and Redis).
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { afterAll, beforeAll, expect, vi } from "vitest";
import type { PlaceOrderInput, SideEffectStep } from "../server/contract";
import { closeDatabase, prisma } from "../server/db";
import { isJobsBoardPath, serveJobsBoard } from "../server/devtools/jobs-board";
import { queueJobCounts } from "../server/devtools/queues";
import { replaceSettings } from "../server/downstream/settings";
import { apiProcedures, isMetricsPath, serveMetrics, trackRequest } from "../server/http/metrics";
import { admitRequest } from "../server/http/request-slots";
import { readQueueJobsWith, startMetrics } from "../server/metrics/registry";
import { findOrderView } from "../server/orders/view";
import { startRelay } from "../server/outbox/relay";
import { closeQueues, sideEffectQueue } from "../server/queues";
import { attachRealtime } from "../server/realtime/server";
import { closeRedis } from "../server/redis";
import { API_BASE_PATH, apiHandlerOptions } from "../server/trpc/http";
import { contextForSession } from "../server/trpc/init";
import { appRouter, createCaller } from "../server/trpc/root";
import { startSideEffectWorkers } from "../workers/side-effects";
import { FAST_SETTINGS } from "./file-stores";

export async function makeServicesFast(): Promise<void> {
  await replaceSettings(FAST_SETTINGS);
}

/** For afterAll: knobs back to fast, every connection this file opened closed. */
export async function closeConnections(): Promise<void> {
  await makeServicesFast();
  await closeQueues();
  await closeRedis();
  await closeDatabase();
}

export async function createProduct({ stock, priceCents = 1250 }: { stock: number; priceCents?: number }) {
  const id = `test_${randomUUID().slice(0, 12)}`;
  return prisma.product.create({
    data: {
      id,
      slug: id,
      name: `Test product ${id.slice(5)}`,
      description: "A product made by a test.",
      priceCents,
      stock,
      artHue: 200,
      artMotif: "box",
    },
  });
}

export function callerFor(sessionId: string = randomUUID()) {
  return createCaller(contextForSession(sessionId));
}

export function orderInput(productId: string, overrides: Partial<PlaceOrderInput> = {}): PlaceOrderInput {
  return {
    items: [{ productId, quantity: 1 }],
    customer: { name: "Ada Lovelace", email: `ada+${randomUUID().slice(0, 8)}@example.com` },
    idempotencyKey: randomUUID(),
    mode: "async",
    ...overrides,
  };
}

export async function stockOf(productId: string): Promise<number> {
  return (await prisma.product.findUniqueOrThrow({ where: { id: productId } })).stock;
}

export async function downstreamCalls(service: string, operation: string, idempotencyKey: string) {
  return prisma.downstreamCall.count({ where: { service, operation, idempotencyKey } });
}

/** Polls the order until `done` holds (the pipeline is asynchronous by design); on timeout the error
 * says where the order stood. */
export async function waitForOrder<T extends { status: string }>(
  read: () => Promise<T>,
  done: (order: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  return vi.waitFor(
    async () => {
      const order = await read();
      if (done(order)) return order;
      const steps = "steps" in order && Array.isArray(order.steps) ? JSON.stringify(order.steps) : "";
      throw new Error(`order still ${order.status} after ${timeoutMs} ms ${steps}`);
    },
    { timeout: timeoutMs, interval: 50 },
  );
}

/** Delivers a step's job again, as at-least-once delivery may (the same job under a new id), and waits
 * until a worker has finished it: whatever it would wrongly redo has been done by then. */
export async function deliverAgain(step: SideEffectStep, orderId: string): Promise<void> {
  const job = await sideEffectQueue(step).add(step, { orderId, step }, { jobId: randomUUID() });
  await expect.poll(() => job.getState(), { timeout: 20_000, interval: 50 }).toBe("completed");
}

/** The worker's part in this test process: the outbox relay (polling every `pollMs`, besides its
 * LISTEN) and the side-effect consumers. `stop` finishes the jobs in flight. */
export function startWorkerSide({ pollMs = 200 }: { pollMs?: number } = {}) {
  const relay = startRelay({ pollMs });
  const workers = startSideEffectWorkers();
  return {
    relay,
    workers,
    stop: async () => {
      await relay.stop();
      await workers.stop();
    },
  };
}

/** The worker's part running for the enclosing file or describe block: started before its tests,
 * stopped after them. Call it after the file's afterAll(closeConnections): vitest runs after-hooks in
 * reverse order, so the workers stop before the connections they use close. */
export function withWorkers(options: { pollMs?: number } = {}): void {
  let running: ReturnType<typeof startWorkerSide> | undefined;
  beforeAll(() => {
    running = startWorkerSide(options);
  });
  afterAll(() => running?.stop());
}

/** The id of the order a checkout still running created (polled until it exists). */
export async function orderIdOf(idempotencyKey: string): Promise<string> {
  const found = await waitForOrder(
    async () => {
      const order = await prisma.order.findUnique({ where: { idempotencyKey }, select: { id: true } });
      return { status: order ? "created" : "none", id: order?.id ?? "" };
    },
    (order) => order.status === "created",
  );
  return found.id;
}

/** A reader of the order as clients see it, by id or by the checkout's idempotency key. */
export function readOrder(orderId: string, by: "id" | "idempotencyKey" = "id") {
  return async () => {
    const order = await findOrderView(by === "id" ? { id: orderId } : { idempotencyKey: orderId });
    if (!order) throw new Error(`no order with ${by} ${orderId}`);
    return order;
  };
}

export function stepOf<
  Step extends { name: string; status: string; attempts: number; detail: string | null },
>(order: { steps: Step[] }, name: string): Step {
  const step = order.steps.find((candidate) => candidate.name === name);
  if (!step) throw new Error(`no ${name} step`);
  return step;
}

/** The API over real HTTP on a free port, served exactly as the web process serves it, for the
 * calling test file (listening before its tests, closed after them). `url()` is its /api/trpc. */
export function serveApi(): { url: () => string } {
  const web = serveWebRoutes();
  return { url: () => `${web.url()}${API_BASE_PATH.slice(0, -1)}` };
}

/** The web process's own routes without Next.js, wired as server/main.ts wires them: request tracking
 * first, the request slots, then the API, /metrics and bull-board under /dev/jobs (a plain 404 stands in
 * for Next's page), and socket.io when asked. `url()` is the server's origin. */
export function serveWebRoutes({ port = 0, realtime = false } = {}): { url: () => string } {
  startMetrics("web");
  readQueueJobsWith(queueJobCounts);
  const handleApi = createHTTPHandler(apiHandlerOptions);
  const tracking = {
    apiBasePath: API_BASE_PATH,
    procedures: apiProcedures(Object.keys(appRouter._def.procedures)),
  };
  const server = createServer(async (req, res) => {
    trackRequest(req, res, tracking);
    const path = req.url ?? "/";
    const admission = await admitRequest(req, res);
    if (admission === "gone") return;
    if (path.startsWith(API_BASE_PATH)) return handleApi(req, res);
    if (admission === "busy") return void res.writeHead(503).end("Busy");
    if (isMetricsPath(path)) return void serveMetrics(req, res);
    if (isJobsBoardPath(path)) return serveJobsBoard(req, res, () => res.writeHead(404).end("Not found"));
    res.writeHead(404).end("Not found");
  });
  const sockets = realtime ? attachRealtime(server) : null;
  let url = "";
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await sockets?.close();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: () => url };
}
