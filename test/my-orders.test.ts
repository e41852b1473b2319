// A session's list of orders (order.mine) cannot be made to amplify: it answers summaries (each step's
// status, no attempt histories, no customer) a page at a time; a tRPC batch may not name one procedure
// twice; and one session asking too often gets 429 with Retry-After while other sessions go on. The
// limit lives in Redis, so every web process behind a balancer counts the same calls. Real Postgres,
// Redis and HTTP into the handler the web process mounts.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLANNED_STEPS } from "../server/contract";
import { SESSION_COOKIE } from "../server/http/session";
import { MY_ORDERS_LIMIT } from "../server/trpc/routers/order";
import {
  callerFor,
  closeConnections,
  createProduct,
  makeServicesFast,
  orderInput,
  serveApi,
} from "./helpers";

const api = serveApi();
const session = randomUUID();
const shopper = callerFor(session);
const placed: string[] = [];

beforeAll(async () => {
  await makeServicesFast();
  const product = await createProduct({ stock: 20 });
  // One at a time: each gets a later createdAt than the one before.
  for (let index = 0; index < 5; index++) {
    placed.unshift((await shopper.order.place(orderInput(product.id, { mode: "sync" }))).id);
  }
});
afterAll(closeConnections);

describe("order.mine", () => {
  it("answers summaries, newest first, a page at a time", async () => {
    const first = await shopper.order.mine({ limit: 2 });
    const second = await shopper.order.mine({ limit: 2, cursor: first.nextCursor ?? undefined });
    const third = await shopper.order.mine({ limit: 2, cursor: second.nextCursor ?? undefined });
    expect([first, second, third].map((page) => page.orders.length)).toEqual([2, 2, 1]);
    expect(third.nextCursor).toBeNull();
    expect([...first.orders, ...second.orders, ...third.orders].map((order) => order.id)).toEqual(placed);

    const [newest] = first.orders;
    expect(Object.keys(newest ?? {}).sort()).toEqual(
      [
        "confirmedAt",
        "createdAt",
        "id",
        "mode",
        "settledAt",
        "status",
        "steps",
        "totalCents",
        "version",
      ].sort(),
    );
    expect(newest?.status).toBe("completed");
    expect(newest?.steps.map((step) => step.name)).toEqual(PLANNED_STEPS);
    for (const step of newest?.steps ?? []) expect(Object.keys(step).sort()).toEqual(["name", "status"]);
    // The whole list is what the default page holds.
    expect((await shopper.order.mine({})).orders.map((order) => order.id)).toEqual(placed);
  });

  it("pages only through the caller's own orders", async () => {
    const stranger = callerFor();
    expect(await stranger.order.mine({})).toEqual({ orders: [], nextCursor: null });
    // Another session's order as a cursor starts nothing.
    expect(await stranger.order.mine({ cursor: placed[0] })).toEqual({ orders: [], nextCursor: null });
    await expect(shopper.order.mine({ limit: 51 })).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});

describe("over HTTP", () => {
  const asShopper = (who: string) => ({ cookie: `${SESSION_COOKIE}=${who}` });

  it("refuses a batch that names a procedure twice, in words, and runs none of it", async () => {
    const input = encodeURIComponent(JSON.stringify({ 0: {}, 1: {} }));
    const repeated = await fetch(`${api.url()}/order.mine,order.mine?batch=1&input=${input}`, {
      headers: asShopper(randomUUID()),
    });
    expect(repeated.status).toBe(400);
    expect(await repeated.text()).toMatch(
      /A batch may call each procedure once; order\.mine is in it more than once/,
    );
    const mixed = await fetch(`${api.url()}/order.mine,product.list?batch=1&input=${input}`, {
      headers: asShopper(randomUUID()),
    });
    expect(mixed.status).toBe(200);
  });

  it("answers a session that asks too often 429 with Retry-After, and only that session", async () => {
    // A session of its own: the calls above counted against the first one's window.
    const busy = asShopper(randomUUID());
    const input = encodeURIComponent(JSON.stringify({}));
    const ask = (headers: Record<string, string>) =>
      fetch(`${api.url()}/order.mine?input=${input}`, { headers });
    // Until refused (a window that ends meanwhile only lets more through), at most a few windows' worth.
    let answered = 0;
    let refused: Response | null = null;
    while (!refused && answered < MY_ORDERS_LIMIT.max * 5) {
      const response = await ask(busy);
      if (response.status === 429) refused = response;
      else {
        expect(response.status).toBe(200);
        answered++;
      }
    }
    expect(answered).toBeGreaterThanOrEqual(MY_ORDERS_LIMIT.max);
    expect(refused?.status).toBe(429);
    const retryAfter = Number(refused?.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(MY_ORDERS_LIMIT.windowMs / 1000);
    expect(await refused?.text()).toMatch(/Too many requests for order\.mine from this browser/);
    expect((await ask(asShopper(randomUUID()))).status).toBe(200);
  });
});
