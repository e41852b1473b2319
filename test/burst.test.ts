// A burst never leaves half-done checkouts. 700 shoppers press Purchase at the same moment, over real
// HTTP into the handler the web process mounts: every answer is an order (200) or a clear "busy, try
// again" (503 with Retry-After) given before anything was written; no order is left pending, the
// stock is exact, and the gateway holds one authorization per placed order. The process runs with few
// checkout slots, a short wait and a slow payment gateway, so the burst really overflows them.
import { randomUUID } from "node:crypto";
import { afterAll, beforeEach, describe, expect, it } from "vitest";

process.env.CHECKOUT_SLOTS = "16";
process.env.CHECKOUT_WAIT_MS = "300";

const { prisma } = await import("../server/db");
const { updateSettings } = await import("../server/downstream/settings");
const { SESSION_COOKIE } = await import("../server/http/session");
const { closeConnections, createProduct, makeServicesFast, orderIdOf, orderInput, serveApi, stockOf } =
  await import("./helpers");

const api = serveApi();
beforeEach(makeServicesFast);
afterAll(closeConnections);

interface Answer {
  status: number;
  retryAfter: string | null;
  error?: { message: string; data: { appCode: string | null } };
}

async function post(path: string, body: unknown, cookie = ""): Promise<Answer> {
  const response = await fetch(`${api.url()}/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as { error?: Answer["error"] };
  return { status: response.status, retryAfter: response.headers.get("retry-after"), error: json.error };
}

describe("a burst of checkouts", () => {
  it("answers 700 at once with orders or a clear 503, and leaves nothing half done", async () => {
    // A slow gateway: every checkout holds its slot for 200 ms, so the slots overflow.
    await updateSettings({ services: { payment: { latencyMs: 200 } } });
    const STOCK = 1000;
    const product = await createProduct({ stock: STOCK });
    const inputs = Array.from({ length: 700 }, () => orderInput(product.id, { mode: "async" }));
    const answers = await Promise.all(inputs.map((input) => post("order.place", input)));

    const placed = answers.filter((answer) => answer.status === 200).length;
    const busy = answers.filter((answer) => answer.status === 503);
    expect(answers.filter((answer) => answer.status !== 200 && answer.status !== 503)).toEqual([]);
    expect(placed).toBeGreaterThan(0);
    expect(busy.length).toBeGreaterThan(0);
    for (const answer of busy) {
      expect(answer.retryAfter).toBe("1");
      expect(answer.error?.data.appCode).toBe("BUSY");
      expect(answer.error?.message).toMatch(/busy.*Nothing was charged/i);
    }

    const keys = inputs.map((input) => input.idempotencyKey);
    const orders = await prisma.order.findMany({
      where: { idempotencyKey: { in: keys } },
      select: { id: true, status: true },
    });
    expect(orders.filter((order) => order.status !== "placed")).toEqual([]);
    expect(orders).toHaveLength(placed);
    expect(await stockOf(product.id)).toBe(STOCK - placed);
    const authorizations = await prisma.downstreamCall.count({
      where: {
        service: "payment",
        operation: "authorize",
        idempotencyKey: { in: orders.map((order) => order.id) },
      },
    });
    expect(authorizations).toBe(placed);
    // Hundreds of queued side effects would only slow the test files after this one down.
    await prisma.order.deleteMany({ where: { idempotencyKey: { in: keys } } });
  }, 60_000);

  it("refuses a batch request larger than the client ever sends", async () => {
    const paths = Array.from({ length: 11 }, () => "product.list").join(",");
    const response = await fetch(`${api.url()}/${paths}?batch=1&input=${encodeURIComponent("{}")}`);
    expect(response.status).toBe(400);
  });

  it("tells a repeat of a checkout that has not answered yet to come back, and then answers it", async () => {
    await updateSettings({ services: { payment: { latencyMs: 1500 } } });
    const product = await createProduct({ stock: 3 });
    const cookie = `${SESSION_COOKIE}=${randomUUID()}`;
    const slow = orderInput(product.id);
    const pending = post("order.place", slow, cookie);
    // The first checkout has claimed the key (its order exists) and waits for the gateway.
    await orderIdOf(slow.idempotencyKey);
    const repeat = await post("order.place", slow, cookie);
    expect(repeat.status).toBe(409);
    expect(repeat.error?.data.appCode).toBe("STILL_PROCESSING");
    expect((await pending).status).toBe(200);
    const again = await post("order.place", slow, cookie);
    expect(again.status).toBe(200);
    expect(await stockOf(product.id)).toBe(2);
  });
});
