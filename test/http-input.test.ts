// Bad input at the HTTP edge: every malformed checkout is a 4xx with a readable message, and writes
// nothing. Real HTTP into the same tRPC handler the web process mounts.
import { randomUUID } from "node:crypto";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { closeDatabase, prisma } from "../server/db";
import { SESSION_COOKIE } from "../server/http/session";
import { closeRedis } from "../server/redis";
import { createProduct, makeServicesFast, orderInput, serveApi, stockOf } from "./helpers";

const api = serveApi();
beforeEach(makeServicesFast);
afterAll(async () => {
  await closeRedis();
  await closeDatabase();
});

async function place(body: string) {
  const response = await fetch(`${api.url()}/order.place`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  const json = (await response.json()) as { error?: { message: string; data: { fieldErrors: unknown } } };
  return { status: response.status, error: json.error };
}

describe("order.place over HTTP", () => {
  it("places a valid order and gives the browser an httpOnly session cookie", async () => {
    const product = await createProduct({ stock: 2 });
    const response = await fetch(`${api.url()}/order.place`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(orderInput(product.id)),
    });
    expect(response.status).toBe(200);
    const cookie = response.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(
      new RegExp(`^${SESSION_COOKIE}=[0-9a-f-]{36}; Max-Age=\\d+; Path=/; HttpOnly; SameSite=Lax`),
    );
    const { result } = (await response.json()) as { result: { data: { id: string } } };
    const session = cookie.split(";")[0] ?? "";
    const input = encodeURIComponent(JSON.stringify({ orderId: result.data.id }));
    const mine = await fetch(`${api.url()}/order.byId?input=${input}`, { headers: { cookie: session } });
    expect(mine.status).toBe(200);
    const theirs = await fetch(`${api.url()}/order.byId?input=${input}`);
    expect(theirs.status).toBe(404);
  });

  const bad: [string, (productId: string) => unknown, RegExp][] = [
    ["an unknown product", () => orderInput("prod_does_not_exist"), /Unknown product: prod_does_not_exist/],
    ["quantity 0", (id) => ({ ...orderInput(id), items: [{ productId: id, quantity: 0 }] }), /at least 1/],
    [
      "a negative quantity",
      (id) => ({ ...orderInput(id), items: [{ productId: id, quantity: -3 }] }),
      /at least 1/,
    ],
    [
      "a huge quantity",
      (id) => ({ ...orderInput(id), items: [{ productId: id, quantity: 1e9 }] }),
      /at most 20/,
    ],
    [
      "a fractional quantity",
      (id) => ({ ...orderInput(id), items: [{ productId: id, quantity: 1.5 }] }),
      /whole/,
    ],
    ["a malformed email", (id) => ({ ...orderInput(id), customer: { name: "Ada", email: "ada@" } }), /email/],
    [
      "a missing customer",
      (id) => ({ items: [{ productId: id, quantity: 1 }], idempotencyKey: randomUUID() }),
      /customer/,
    ],
    ["an empty cart", (id) => ({ ...orderInput(id), items: [] }), /cart is empty/],
    [
      "a missing idempotency key",
      (id) => ({ ...orderInput(id), idempotencyKey: undefined }),
      /idempotencyKey/,
    ],
    ["an unknown mode", (id) => ({ ...orderInput(id), mode: "eventually" }), /mode/],
    [
      "a NUL byte in the name",
      (id) => ({ ...orderInput(id), customer: { name: "Ada\u0000Lovelace", email: "ada@example.com" } }),
      /Name must not contain control characters/,
    ],
    [
      "an escape character in the name",
      (id) => ({ ...orderInput(id), customer: { name: "Ada\u001b[31m", email: "ada@example.com" } }),
      /Name must not contain control characters/,
    ],
    [
      "a NUL byte in the product id",
      (id) => ({ ...orderInput(id), items: [{ productId: `${id}\u0000`, quantity: 1 }] }),
      /ProductId must not contain control characters/,
    ],
    [
      "a NUL byte in the email",
      (id) => ({ ...orderInput(id), customer: { name: "Ada", email: "ada\u0000@example.com" } }),
      /email/,
    ],
    [
      "a NUL byte in the idempotency key",
      (id) => ({ ...orderInput(id), idempotencyKey: "abcdefgh\u0000ijk" }),
      /idempotencyKey/,
    ],
    [
      "the same product twice",
      (id) => ({
        ...orderInput(id),
        items: [
          { productId: id, quantity: 1 },
          { productId: id, quantity: 1 },
        ],
      }),
      /only once/,
    ],
  ];

  for (const [what, body, message] of bad) {
    it(`answers 400 for ${what} and writes nothing`, async () => {
      const product = await createProduct({ stock: 5 });
      const ordersBefore = await prisma.order.count();
      const { status, error } = await place(JSON.stringify(body(product.id)));
      expect(status).toBe(400);
      expect(`${error?.message} ${JSON.stringify(error?.data.fieldErrors)}`).toMatch(message);
      expect(await prisma.order.count()).toBe(ordersBefore);
      expect(await stockOf(product.id)).toBe(5);
    });
  }

  it("says what is wrong in a sentence, beside the fields it is about", async () => {
    const product = await createProduct({ stock: 5 });
    const { status, error } = await place(
      JSON.stringify({ ...orderInput(product.id), items: [{ productId: product.id, quantity: -1 }] }),
    );
    expect(status).toBe(400);
    expect(error?.message).toBe("Quantity must be at least 1");
    expect(error?.data.fieldErrors).toEqual({ items: ["quantity must be at least 1"] });
  });

  it("answers 400 for a control character in any text input, not 500", async () => {
    const retry = await fetch(`${api.url()}/dev.retryDeadLetter`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ queue: "email", jobId: "job\u0000" }),
    });
    expect(retry.status).toBe(400);
    const input = encodeURIComponent(JSON.stringify({ orderId: "\u0000" }));
    expect((await fetch(`${api.url()}/order.byId?input=${input}`)).status).toBe(400);
  });

  it("answers 400 for ill-formed UTF-16 (a lone surrogate) in any text field, and writes nothing", async () => {
    const product = await createProduct({ stock: 5 });
    const ordersBefore = await prisma.order.count();
    const lone: [string, unknown][] = [
      ["items.0.productId", { ...orderInput(product.id), items: [{ productId: "\ud800", quantity: 1 }] }],
      [
        "customer.name",
        { ...orderInput(product.id), customer: { name: "Ada \udc00", email: "ada@example.com" } },
      ],
      [
        "customer.email",
        { ...orderInput(product.id), customer: { name: "Ada", email: "a\ud83d@example.com" } },
      ],
    ];
    for (const [field, body] of lone) {
      // JSON.stringify escapes a lone surrogate as \udXXX, which is exactly what an attacker would send.
      const { status, error } = await place(JSON.stringify(body));
      expect(status, field).toBe(400);
      expect(error?.message, field).toMatch(/not well-formed text/);
      expect(error?.message.toLowerCase(), field).toContain(field.toLowerCase());
    }
    expect(await prisma.order.count()).toBe(ordersBefore);
    expect(await stockOf(product.id)).toBe(5);
    // A well-formed pair (an emoji) is text like any other.
    const emoji = {
      ...orderInput(product.id),
      customer: { name: "Ada \ud83d\ude00", email: "ada@example.com" },
    };
    expect((await place(JSON.stringify(emoji))).status).toBe(200);
    // Queries too, and fields whose own rule would not look at the characters (a saved run's id).
    const input = encodeURIComponent(JSON.stringify({ runIds: ["run-\udfff"] }));
    const compare = await fetch(`${api.url()}/dev.rush.compare?input=${input}`);
    expect(compare.status).toBe(400);
  });

  it("answers 400 for a body that is not JSON", async () => {
    const ordersBefore = await prisma.order.count();
    const { status, error } = await place("{ this is not json");
    expect(status).toBe(400);
    expect(error?.message).toBeTruthy();
    expect(await prisma.order.count()).toBe(ordersBefore);
  });

  it("answers 413 for an oversized body", async () => {
    const { status } = await place(JSON.stringify({ padding: "x".repeat(200_000) }));
    expect(status).toBe(413);
  });

  it("answers 400 for an order id that is not a UUID, never 500", async () => {
    const response = await fetch(
      `${api.url()}/order.byId?input=${encodeURIComponent(JSON.stringify({ orderId: "nope" }))}`,
    );
    expect(response.status).toBe(400);
  });
});
