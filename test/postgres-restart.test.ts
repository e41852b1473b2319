// Postgres restarts (`pg_ctl restart -m fast`: every connection cut) under a running shop. Nothing is
// restarted by hand: the checkout's connection pool opens new connections, the worker process's outbox
// relay listens for NOTIFY again, and an order placed after the restart completes. Runs on a private
// PostgreSQL cluster and redis-server, so the restart disturbs no one else.

import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import getPort from "get-port";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { migrate } from "../scripts/migrate";
import { PrivatePostgres } from "../tools/lib/private-postgres";
import { PrivateRedis } from "../tools/lib/private-redis";
import { atMost, exitOf, startWorkerProcess } from "./processes";

const dir = mkdtempSync(path.join(tmpdir(), "storefront-pg-restart-"));
const postgres = new PrivatePostgres(dir, await getPort());
const redisServer = new PrivateRedis(await getPort());
const databaseUrl = postgres.url("storefront");
let worker: ChildProcess | null = null;
let helpers: typeof import("./helpers") | null = null;
let api: Server | null = null;

beforeAll(async () => {
  await postgres.create();
  await redisServer.start();
  await migrate(databaseUrl);
  Object.assign(process.env, {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisServer.url,
    REDIS_PREFIX: `storefront-pg-restart-${randomUUID().slice(0, 8)}`,
  });
  // Imported after the environment points at the private servers.
  helpers = await import("./helpers");
});

afterAll(async () => {
  api?.close();
  api?.closeAllConnections();
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    worker.kill("SIGTERM");
    await atMost(10_000, exitOf(worker));
    if (worker.exitCode === null && worker.signalCode === null) worker.kill("SIGKILL");
  }
  await atMost(20_000, helpers?.closeConnections() ?? Promise.resolve());
  await redisServer.kill();
  await postgres.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The API over HTTP as the web process serves it (status codes and headers are what is tested). */
async function serveApi(): Promise<string> {
  const { createHTTPHandler } = await import("@trpc/server/adapters/standalone");
  const { API_BASE_PATH, apiHandlerOptions } = await import("../server/trpc/http");
  const server = createServer(createHTTPHandler(apiHandlerOptions));
  api = server;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${API_BASE_PATH}`;
}

interface Answer {
  status: number;
  retryAfter: string | null;
  error?: { message: string; data: { appCode: string | null } };
}

async function placeOverHttp(url: string, input: unknown): Promise<Answer> {
  const response = await fetch(`${url}order.place`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(input),
  });
  const json = (await response.json()) as { error?: Answer["error"] };
  return { status: response.status, retryAfter: response.headers.get("retry-after"), error: json.error };
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await check())) throw new Error(`${what} not within ${timeoutMs} ms`);
    },
    { timeout: timeoutMs, interval: 100 },
  );
}

it("checks out and completes async orders after a Postgres restart, restarting nothing else", async () => {
  if (!helpers) throw new Error("not set up");
  const { callerFor, createProduct, makeServicesFast, orderInput, readOrder, waitForOrder } = helpers;
  await makeServicesFast();
  worker = startWorkerProcess();
  const product = await createProduct({ stock: 5 });
  const before = await callerFor().order.place(orderInput(product.id));
  await waitForOrder(readOrder(before.id), (order) => order.status === "completed", 30_000);

  await postgres.restart();

  // The checkout's pool dropped its dead connections and opens new ones.
  const placedAt = Date.now();
  const after = await callerFor().order.place(orderInput(product.id));
  expect(after.status).toBe("placed");
  const order = await waitForOrder(readOrder(after.id), (current) => current.status === "completed", 30_000);
  expect(order.status).toBe("completed");
  console.info(`an order placed after the restart completed in ${Date.now() - placedAt} ms`);
  expect(worker.exitCode).toBeNull();
}, 120_000);

it("answers checkouts during a Postgres stop with a 503 saying so, and compensates the one it cut once Postgres is back", async () => {
  if (!helpers) throw new Error("not set up");
  const { createProduct, makeServicesFast, orderInput, stockOf } = helpers;
  const { updateSettings } = await import("../server/downstream/settings");
  const { findOrderView } = await import("../server/orders/view");
  const { prisma } = await import("../server/db");
  const url = await serveApi();
  await makeServicesFast();
  const product = await createProduct({ stock: 5 });
  // A synchronous checkout waits for its receipt: Postgres stops while the request is in there.
  await updateSettings({ services: { email: { latencyMs: 1500 } } });
  const cut = orderInput(product.id, { mode: "sync" });
  const answer = placeOverHttp(url, cut);
  const cutOrder = () => findOrderView({ idempotencyKey: cut.idempotencyKey });
  await eventually(
    async () =>
      (await cutOrder())?.steps.some((step) => step.name === "email" && step.status === "running") ?? false,
    10_000,
    "the receipt step running",
  );
  await postgres.stop();
  const whileDown = await placeOverHttp(url, orderInput(product.id, { mode: "sync" }));
  const cutAnswer = await answer;
  await postgres.start();

  for (const { status, retryAfter, error } of [cutAnswer, whileDown]) {
    expect(status).toBe(503);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(error?.data.appCode).toBe("DATABASE_UNAVAILABLE");
    expect(error?.message).toMatch(/database is restarting/i);
  }

  // Once Postgres is back the web process undoes the checkout it cut: stock back, nothing charged.
  // Failed by the claim, which leaves the void owed; done once the gateway has voided it too.
  await eventually(
    async () => {
      const current = await cutOrder();
      const payment = current?.steps.find((step) => step.name === "payment");
      return current?.status === "failed" && payment?.status === "compensated";
    },
    20_000,
    "the cut checkout compensated",
  );
  const order = await cutOrder();
  expect(order?.steps.find((step) => step.name === "payment")?.status).toBe("compensated");
  expect(await stockOf(product.id)).toBe(5);
  expect(await prisma.order.count({ where: { status: "pending" } })).toBe(0);
  expect(
    await prisma.order.count({ where: { status: "placed", mode: { not: "async" }, confirmedAt: null } }),
  ).toBe(0);

  // And the shop works again.
  await makeServicesFast();
  const after = await placeOverHttp(url, orderInput(product.id, { mode: "sync" }));
  expect(after.status).toBe(200);
}, 120_000);
