// `npm run cluster` on real parts: nginx in front of two web processes of the production build, two
// worker processes, one Postgres and one Redis. An order placed through one web process is watched on
// the other; a web process SIGKILLed under a watching shopper's WebSocket is replaced, through nginx, by
// the other one, and the shopper ends with exactly the database's order; a worker SIGKILLed mid-job
// leaves the job to the other worker, and the receipt is still sent once; Ctrl+C stops everything.
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from "vitest";
import { updateSettings } from "../../server/downstream/settings";
import { findOrderView } from "../../server/orders/view";
import { sideEffectQueue } from "../../server/queues";
import { CookieJar, callProcedure, keepAliveAgent } from "../../tools/load/http";
import {
  closeConnections,
  createProduct,
  downstreamCalls,
  makeServicesFast,
  readOrder,
  stepOf,
  waitForOrder,
} from "../helpers";
import { acceptedOn, alive, type ClusterRun, freePortBlock, runCluster, type Started } from "./harness";
import { disconnectWatchers, expectFollowedToTheEnd, place, shopper, until, watcher } from "./shoppers";

let run: ClusterRun;
let shop = "";
let web: Started[] = [];
let workers: Started[] = [];

beforeAll(async () => {
  await makeServicesFast();
  run = runCluster(["--web", "2", "--workers", "2", "--port", String(await freePortBlock(2))]);
  shop = await run.ready;
  web = run.started().filter((member) => member.name.startsWith("web"));
  workers = run.started().filter((member) => member.name.startsWith("worker"));
});
beforeEach(() => {
  onTestFailed(() => console.info(`cluster output, last 60 lines:\n${run.lines.slice(-60).join("\n")}`));
});
afterAll(async () => {
  disconnectWatchers();
  if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGINT");
  await run.exit;
  await closeConnections();
});

describe("npm run cluster", () => {
  it("starts two web processes behind nginx and two workers, each on a port of its own", async () => {
    expect(web.map((member) => member.url)).toHaveLength(2);
    expect(new Set(web.map((member) => member.url)).size).toBe(2);
    expect(workers).toHaveLength(2);
    const health = await fetch(`${shop}/api/health`);
    expect(health.headers.get("server")).toMatch(/^nginx/);
  });

  it("makes and prints a developer tools key: through nginx nothing is this machine's, so the tools need it", async () => {
    const key = run.devKey();
    expect(key).toMatch(/^[\w-]{24}$/);
    const jar = new CookieJar();
    const ask = (procedure: string, kind: "query" | "mutation", input?: unknown) =>
      callProcedure(shop, procedure, { agent: keepAliveAgent(shop, 1), kind, input, jar, timeoutMs: 10_000 });
    expect((await ask("dev.access", "query")).body).toContain('"access":"locked"');
    expect((await ask("dev.mailbox", "query")).status).toBe(401);
    expect((await fetch(`${shop}/metrics`)).status).toBe(401);
    expect((await ask("dev.unlock", "mutation", { key })).status).toBe(200);
    expect((await ask("dev.mailbox", "query")).status).toBe(200);
    expect((await fetch(`${shop}/metrics`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(
      200,
    );
  });

  it("delivers every step of an order placed through web 1 to its watcher on web 2", async () => {
    const [first, second] = web;
    if (!first?.url || !second?.url) throw new Error("two web processes expected");
    await updateSettings({ services: { fraud: { latencyMs: 300 }, email: { latencyMs: 300 } } });
    const product = await createProduct({ stock: 5 });
    const { jar, cookie } = shopper();

    const placed = await place(first.url, jar, product.id);
    const watching = watcher(second.url, cookie, false);
    await watching.watch(placed.id);
    await until("completed on web 2", () => watching.seen.latest?.status === "completed");

    const stored = await findOrderView({ id: placed.id });
    expectFollowedToTheEnd(watching.seen, stored);
    watching.socket.disconnect();
  });

  it("hands a watcher whose web process was SIGKILLed to the other one through nginx, with nothing missed", async () => {
    await updateSettings({ services: { fraud: { latencyMs: 300 }, email: { latencyMs: 3000 } } });
    const product = await createProduct({ stock: 5 });
    const { jar, cookie } = shopper();
    const placed = await place(shop, jar, product.id);
    // The web process nginx gives the WebSocket to: the one a new connection is accepted on.
    const ports = web.map((member) => Number(new URL(member.url ?? "").port));
    const before = acceptedOn(ports);
    const watching = watcher(shop, cookie, true);
    await watching.watch(placed.id);
    const opened = [...acceptedOn(ports)].filter((connection) => !before.has(connection));
    expect(opened, "one new connection to a web process: the WebSocket").toHaveLength(1);
    const victim = web.find((member) => opened[0]?.startsWith(`${new URL(member.url ?? "").port}<-`));
    if (!victim) throw new Error(`no web process accepted ${opened[0]}`);
    await until("told that fraud screening passed", () =>
      Boolean(watching.seen.latest && stepOf(watching.seen.latest, "fraud").status === "succeeded"),
    );
    expect(stepOf(watching.seen.latest ?? placed, "email").status).not.toBe("succeeded");
    process.kill(victim.pid, "SIGKILL");

    await until("completed after the reconnect", () => watching.seen.latest?.status === "completed", 30_000);
    expect(watching.seen.drops).toBe(1);
    expect(watching.seen.connects).toBe(2);
    expect(alive(victim.pid)).toBe(false);
    const stored = await findOrderView({ id: placed.id });
    expect(watching.seen.latest).toEqual(stored);
    expect(watching.seen.latest?.version).toBe(stored?.version);
    expect(await downstreamCalls("email", "send", `${placed.id}:receipt`)).toBe(1);
    await until("the cluster reported the loss", () =>
      run.lines.some((line) => line.includes(`${victim.name} (pid ${victim.pid}) exited on SIGKILL`)),
    );
    // The shop still answers through nginx, on the web process that is left.
    expect((await fetch(`${shop}/api/health`)).status).toBe(200);
  });

  it("finishes a job on the other worker when its worker is SIGKILLed mid-call, and sends one email", async () => {
    await updateSettings({ services: { email: { latencyMs: 4000 } } });
    const product = await createProduct({ stock: 5 });
    const { jar } = shopper();
    const placed = await place(shop, jar, product.id);
    await waitForOrder(readOrder(placed.id), (order) => stepOf(order, "email").status === "running", 30_000);

    // The worker that holds the job: BullMQ records its name (host-pid, workers/side-effects.ts).
    const active = await sideEffectQueue("email").getActive();
    const job = active.find((candidate) => candidate.data.orderId === placed.id);
    const holder = workers.find((member) => job?.processedBy?.endsWith(`-${member.pid}`));
    if (!holder) throw new Error(`no cluster worker holds the email job (processedBy ${job?.processedBy})`);
    process.kill(holder.pid, "SIGKILL");
    await updateSettings({ services: { email: { latencyMs: 0 } } });

    const order = await waitForOrder(
      readOrder(placed.id),
      (current) => current.status === "completed",
      30_000,
    );
    expect(stepOf(order, "email")).toMatchObject({ status: "succeeded", attempts: 2 });
    expect(await downstreamCalls("email", "send", `${placed.id}:receipt`)).toBe(1);
    expect(alive(holder.pid)).toBe(false);
    expect(workers.filter((member) => alive(member.pid))).toHaveLength(1);
  });

  it("stops nginx, every web process and every worker on Ctrl+C", async () => {
    const everyone = run.started();
    run.child.kill("SIGINT");
    expect(await run.exit).toEqual({ code: 0, signal: null });
    for (const member of everyone) expect(alive(member.pid), `${member.name} is gone`).toBe(false);
    const answered = await fetch(`${shop}/api/health`).then(
      () => true,
      () => false,
    );
    expect(answered).toBe(false);
  });
});
