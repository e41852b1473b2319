// The web tier's request slots (the "threads pile up" experiment): with the knob on, a synchronous
// checkout holds its slot while it waits for a slow provider; the next requests, browsing included,
// wait in line for a slot and are refused with 503 + Retry-After once REQUEST_SLOT_WAIT_MS has passed.
// The developer tools never wait. Real HTTP into the API as the web process serves it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REQUEST_SLOT_WAIT_MS } from "../server/contract";
import { updateSettings } from "../server/downstream/settings";
import {
  followRequestSlotKnob,
  requestSlotLimit,
  requestSlots,
  takesRequestSlot,
} from "../server/http/request-slots";
import { metrics } from "../server/metrics/registry";
import { Slots } from "../server/semaphore";
import { closeConnections, createProduct, makeServicesFast, orderInput, serveApi } from "./helpers";

const api = serveApi();
let stopFollowing = () => {};

beforeAll(async () => {
  await makeServicesFast();
  stopFollowing = followRequestSlotKnob();
});
afterAll(async () => {
  stopFollowing();
  await closeConnections();
});

const json = { "content-type": "application/json" };

/** Calls one procedure; resolves with its status, the app error code and Retry-After. */
async function call(path: string, body?: unknown) {
  const response = await fetch(`${api.url()}/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: json,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = (await response.json()) as { error?: { data?: { appCode?: string | null } } };
  return {
    status: response.status,
    appCode: answer.error?.data?.appCode ?? null,
    retryAfter: response.headers.get("retry-after"),
  };
}

async function refusals(): Promise<number> {
  return (await metrics.requestsRefused.get()).values.reduce((sum, { value }) => sum + value, 0);
}

async function knob(requestSlots: number) {
  await updateSettings({ shop: { requestSlots } });
  await expect.poll(requestSlotLimit).toBe(requestSlots);
}

/** Sync checkouts that wait `emailMs` for the email provider, holding their slots meanwhile. */
async function slowSyncCheckouts(count: number, emailMs: number) {
  await updateSettings({ services: { email: { latencyMs: emailMs } } });
  const product = await createProduct({ stock: count });
  const checkouts = Array.from({ length: count }, () =>
    call("order.place", orderInput(product.id, { mode: "sync" })),
  );
  await expect.poll(() => requestSlots.inUse).toBe(count);
  return checkouts;
}

describe("Slots", () => {
  it("admits up to the limit, then in arrival order, and turns away who waited too long", async () => {
    let limit = 1;
    const slots = new Slots(
      () => limit,
      () => 200,
    );
    expect(await slots.acquire()).toBe(true);
    const order: string[] = [];
    const second = slots.acquire().then((ok) => order.push(`second ${ok}`));
    const third = slots.acquire().then((ok) => order.push(`third ${ok}`));
    expect(slots.waiting).toBe(2);
    slots.release();
    await second;
    expect(order).toEqual(["second true"]);
    await third; // nobody released within 200 ms
    expect(order).toEqual(["second true", "third false"]);
    expect(slots.inUse).toBe(1);

    const fourth = slots.acquire();
    limit = 2;
    slots.admitWaiting(); // a larger limit lets the line in without a release
    expect(await fourth).toBe(true);
    expect(slots.inUse).toBe(2);
  });

  it("knows which requests take a slot: not the developer tools, metrics, health or static assets", () => {
    expect(takesRequestSlot("/")).toBe(true);
    expect(takesRequestSlot("/api/trpc/product.list")).toBe(true);
    expect(takesRequestSlot("/api/trpc/product.list,dev.settings?batch=1")).toBe(true);
    expect(takesRequestSlot("/api/trpc/dev.settings,dev.queues?batch=1")).toBe(false);
    expect(takesRequestSlot("/dev")).toBe(false);
    expect(takesRequestSlot("/dev/rush?x=1")).toBe(false);
    expect(takesRequestSlot("/developer")).toBe(true);
    expect(takesRequestSlot("/metrics")).toBe(false);
    expect(takesRequestSlot("/api/health")).toBe(false);
    expect(takesRequestSlot("/_next/static/chunks/a.js")).toBe(false);
  });

  it("judges the path the handlers will see: no shopper call passes as a developer tool", () => {
    expect(takesRequestSlot("/api/trpc/dev.settings/../order.place")).toBe(true);
    expect(takesRequestSlot("/api/trpc/dev.x%2Corder.place?batch=1")).toBe(true);
    expect(takesRequestSlot("/dev/%2E%2E/checkout")).toBe(true);
    expect(takesRequestSlot("/api/trpc/dev.settings%2Cdev.queues?batch=1")).toBe(false);
    expect(takesRequestSlot("/api/trpc/%E0%A4%A")).toBe(true); // unreadable: takes a slot
  });

  it("lets a waiter that gave up leave the line", async () => {
    const slots = new Slots(
      () => 1,
      () => 10_000,
    );
    expect(await slots.acquire()).toBe(true);
    const gaveUp = new AbortController();
    const waiter = slots.acquire(gaveUp.signal);
    expect(slots.waiting).toBe(1);
    gaveUp.abort();
    expect(await waiter).toBe(false);
    expect(slots.waiting).toBe(0);
    slots.release();
    expect(slots.inUse).toBe(0);
  });
});

describe("request slots in the web tier", () => {
  it("makes browsing wait behind sync checkouts holding every slot; the developer tools do not wait", async () => {
    await knob(2);
    const checkouts = await slowSyncCheckouts(2, 1_500);
    const browsing = call("product.list");
    await expect.poll(() => requestSlots.waiting).toBe(1); // the catalog request, in line
    const tools = await call("dev.settings");
    expect(tools.status).toBe(200);
    expect(requestSlots.waiting).toBe(1); // the tools answered while browsing still waited

    const answers = await Promise.all([...checkouts, browsing]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(requestSlots.inUse).toBe(0);
  });

  it(`refuses with 503 BUSY and Retry-After after waiting ${REQUEST_SLOT_WAIT_MS} ms for a slot`, async () => {
    await knob(1);
    const refusedBefore = await refusals();
    const [checkout] = await slowSyncCheckouts(1, REQUEST_SLOT_WAIT_MS + 2_000);
    const catalog = await call("product.list");
    expect(catalog).toMatchObject({ status: 503, appCode: "BUSY", retryAfter: "1" });
    expect(await refusals()).toBe(refusedBefore + 1); // and /metrics says so
    expect((await checkout)?.status).toBe(200);
    expect(requestSlots.inUse).toBe(0);
  }, 20_000);

  it("gives no slot to a client that left while it waited, and loses none", async () => {
    await knob(1);
    const [checkout] = await slowSyncCheckouts(1, 1_500);
    const leaving = new AbortController();
    const browsing = fetch(`${api.url()}/product.list`, { signal: leaving.signal }).catch(() => "left");
    await expect.poll(() => requestSlots.waiting).toBe(1);
    leaving.abort();
    expect(await browsing).toBe("left");
    await expect.poll(() => requestSlots.waiting).toBe(0);
    expect((await checkout)?.status).toBe(200);
    await expect.poll(() => requestSlots.inUse).toBe(0);
    expect((await call("product.list")).status).toBe(200); // the pool still serves
  });

  it("with the knob off (0, the default) nothing waits for a slot", async () => {
    await knob(0);
    const checkouts = await slowSyncCheckouts(3, 1_000);
    expect(requestSlots.waiting).toBe(0);
    await Promise.all(checkouts);
  });
});
