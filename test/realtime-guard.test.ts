// socket.io's door and its limits, on a real socket.io server with its Redis adapter: only the shop's
// own pages (or allowed origins, or clients that are no page) connect; one connection watches a few
// orders at most and asks at a bounded rate; watching by idempotency key joins nothing until this
// session's checkout with that key has started; bad input is answered in words, with the same codes
// as the API.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ClientToServerEvents, OrderView, ServerToClientEvents, WatchAck } from "../server/contract";

process.env.ALLOWED_ORIGINS = "http://console.shop.invalid:8080";
const { callerFor, closeConnections, createProduct, makeServicesFast, orderInput } = await import(
  "./helpers"
);
const { updateSettings } = await import("../server/downstream/settings");
const { attachRealtime, MAX_WATCHED_ORDERS, WATCH_BURST } = await import("../server/realtime/server");
const { orderRoom, roomChannel } = await import("../server/orders/rooms");
const { connectionlessBroadcaster } = await import("../server/orders/feed");
const { createRedis, redis } = await import("../server/redis");
const { SESSION_COOKIE } = await import("../server/http/session");

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

const server = createServer();
const realtime = attachRealtime(server);
let url = "";
const clients: Client[] = [];

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
beforeEach(makeServicesFast);
afterAll(async () => {
  for (const client of clients) client.disconnect();
  await realtime.close();
  await closeConnections();
});

function client({
  session,
  origin,
  transport = "websocket",
}: {
  session?: string;
  origin?: string;
  transport?: string;
} = {}): Client {
  const headers: Record<string, string> = {};
  if (session) headers.cookie = `${SESSION_COOKIE}=${session}`;
  if (origin) headers.origin = origin;
  const socket: Client = connect(url, {
    transports: [transport],
    extraHeaders: headers,
    reconnection: false,
  });
  clients.push(socket);
  return socket;
}

/** "connected", or the reason the server gave for refusing the handshake. */
function handshake(socket: Client): Promise<string> {
  return new Promise((resolve) => {
    socket.once("connect", () => resolve("connected"));
    socket.once("connect_error", (error) => resolve(`refused: ${error.message}`));
  });
}

const watch = (socket: Client, input: unknown) =>
  new Promise<WatchAck>((resolve) => socket.emit("order:watch", input, resolve));

/** The server's side of a connected client: which rooms it is in. */
function roomsOf(socket: Client): Set<string> {
  const serverSide = socket.id ? realtime.io.of("/").sockets.get(socket.id) : undefined;
  if (!serverSide) throw new Error("no such socket on the server");
  return serverSide.rooms;
}

describe("the handshake", () => {
  it("refuses another site's page, even another port of this host", async () => {
    expect(await handshake(client({ origin: "http://evil.invalid" }))).toMatch(/^refused/);
    const otherPort = new URL(url);
    otherPort.port = String(Number(otherPort.port) + 1);
    expect(await handshake(client({ origin: otherPort.origin }))).toMatch(/^refused/);
    expect(await handshake(client({ origin: "http://evil.invalid", transport: "polling" }))).toMatch(
      /^refused/,
    );
  });

  it("accepts the shop's own pages, allowed origins and clients that send no Origin", async () => {
    expect(await handshake(client({ origin: url }))).toBe("connected");
    expect(await handshake(client({ origin: url, transport: "polling" }))).toBe("connected");
    expect(await handshake(client({ origin: "http://console.shop.invalid:8080" }))).toBe("connected");
    expect(await handshake(client())).toBe("connected");
  });
});

describe("order:watch", () => {
  it("answers bad input in words, with a code and the fields it is about", async () => {
    const socket = client({ session: randomUUID() });
    const answer = await watch(socket, { orderId: "not-a-uuid" });
    expect(answer).toEqual({
      ok: false,
      code: "BAD_REQUEST",
      error: "OrderId must be a UUID",
      fieldErrors: { orderId: ["orderId must be a UUID"] },
    });
    expect(await watch(socket, { orderId: 42 })).toMatchObject({ ok: false, code: "BAD_REQUEST" });
    expect(socket.connected).toBe(true);
  });

  it("answers ill-formed UTF-16 (a lone surrogate) as bad input, like the API", async () => {
    const socket = client({ session: randomUUID() });
    const answer = await watch(socket, { idempotencyKey: "abcdefgh\ud800" });
    expect(answer).toMatchObject({ ok: false, code: "BAD_REQUEST" });
    expect(answer.ok ? "" : answer.error).toMatch(/idempotencyKey is not well-formed text/i);
    expect(socket.connected).toBe(true);
  });

  it("by idempotency key joins nothing unless this session's checkout with that key has started", async () => {
    const session = randomUUID();
    const socket = client({ session });
    await handshake(socket);
    const unknownKey = randomUUID();
    expect(await watch(socket, { idempotencyKey: unknownKey })).toEqual({
      ok: false,
      code: "NOT_FOUND",
      error: "Order not found",
    });
    // Someone else's checkout, by its key: not found either.
    const product = await createProduct({ stock: 5 });
    const theirs = orderInput(product.id);
    await callerFor(randomUUID()).order.place(theirs);
    const input = orderInput(product.id);
    await callerFor(session).order.place(input);
    expect(await watch(socket, { idempotencyKey: theirs.idempotencyKey })).toMatchObject({
      ok: false,
      code: "NOT_FOUND",
    });
    expect([...roomsOf(socket)]).toEqual([socket.id]);

    const mine = await watch(socket, { idempotencyKey: input.idempotencyKey });
    expect(mine).toMatchObject({ ok: true, order: { status: "placed" } });
    // By its key, the connection joins the room of the order that key started.
    expect(roomsOf(socket).has(orderRoom(mine.ok ? mine.order.id : ""))).toBe(true);
  });

  it("has this process hear an order's channel only while one of its connections watches the order", async () => {
    const listeners = async (orderId: string) => {
      const reply = (await redis("command").call(
        "PUBSUB",
        "SHARDNUMSUB",
        roomChannel(orderRoom(orderId)),
      )) as [string, number];
      return reply[1];
    };
    const session = randomUUID();
    const product = await createProduct({ stock: 5 });
    const order = await callerFor(session).order.place(orderInput(product.id));
    // Nobody watches it: its pushes reach no process.
    expect(await listeners(order.id)).toBe(0);
    const socket = client({ session });
    expect(await watch(socket, { orderId: order.id })).toMatchObject({ ok: true });
    expect(await listeners(order.id)).toBe(1);
    socket.disconnect();
    await expect.poll(() => listeners(order.id)).toBe(0);
  });

  it("delivers a push sent from another process the moment the watch is answered", async () => {
    // A worker pushes through a socket.io server of its own with no connections; the channel it
    // publishes on must be the one this process subscribed to before answering the watch.
    const [pub, sub] = [createRedis("pub"), createRedis("sub")];
    const worker = connectionlessBroadcaster(pub, sub);
    try {
      const session = randomUUID();
      const product = await createProduct({ stock: 5 });
      const order = await callerFor(session).order.place(orderInput(product.id));
      const socket = client({ session });
      const pushes: OrderView[] = [];
      socket.on("order:updated", (view) => pushes.push(view));
      const answer = await watch(socket, { orderId: order.id });
      if (!answer.ok) throw new Error(answer.error);
      worker
        .to(orderRoom(order.id))
        .emit("order:updated", { ...answer.order, version: answer.order.version + 1 });
      await expect.poll(() => pushes.map((view) => view.version)).toContain(answer.order.version + 1);
    } finally {
      await Promise.all([pub.quit(), sub.quit()]);
    }
  });

  it("follows a synchronous checkout by its key once it has started, and gets its steps live", async () => {
    await updateSettings({ services: { email: { latencyMs: 600 } } });
    const session = randomUUID();
    const socket = client({ session });
    const pushes: OrderView[] = [];
    socket.on("order:updated", (order) => pushes.push(order));
    const product = await createProduct({ stock: 5 });
    const input = orderInput(product.id, { mode: "sync" });
    const placing = callerFor(session).order.place(input);
    // Asked again until the checkout has created its order: NOT_FOUND before that, nothing else.
    const refusals: string[] = [];
    await expect
      .poll(
        async () => {
          const answer = await watch(socket, { idempotencyKey: input.idempotencyKey });
          if (!answer.ok) refusals.push(answer.code);
          return answer.ok;
        },
        { timeout: 10_000, interval: 20 },
      )
      .toBe(true);
    expect(refusals.filter((code) => code !== "NOT_FOUND")).toEqual([]);
    const placed = await placing;
    await expect.poll(() => pushes.at(-1)?.version).toBe(placed.version);
    expect(pushes.some((order) => order.steps.some((step) => step.status === "running"))).toBe(true);
  });

  it(`watches at most ${MAX_WATCHED_ORDERS} orders on one connection`, async () => {
    const session = randomUUID();
    const product = await createProduct({ stock: MAX_WATCHED_ORDERS + 1 });
    const caller = callerFor(session);
    const orders = [];
    for (let i = 0; i <= MAX_WATCHED_ORDERS; i++)
      orders.push(await caller.order.place(orderInput(product.id)));
    const socket = client({ session });
    for (const order of orders.slice(0, MAX_WATCHED_ORDERS)) {
      expect(await watch(socket, { orderId: order.id })).toMatchObject({ ok: true });
    }
    const oneTooMany = orders[MAX_WATCHED_ORDERS]?.id;
    expect(await watch(socket, { orderId: oneTooMany })).toMatchObject({
      ok: false,
      code: "TOO_MANY_REQUESTS",
    });
    // Watching again what it already watches is fine (a page re-watches on every reconnect).
    expect(await watch(socket, { orderId: orders[0]?.id })).toMatchObject({ ok: true });
    expect(roomsOf(socket).size).toBe(MAX_WATCHED_ORDERS + 1);
  });

  it("answers a flood of watch requests with 'too many', and keeps the connection", async () => {
    const session = randomUUID();
    const product = await createProduct({ stock: 1 });
    const order = await callerFor(session).order.place(orderInput(product.id));
    const socket = client({ session });
    const answers = await Promise.all(
      Array.from({ length: WATCH_BURST * 3 }, () => watch(socket, { orderId: order.id })),
    );
    const refused = answers.filter((answer) => !answer.ok);
    expect(refused.length).toBeGreaterThanOrEqual(WATCH_BURST * 2 - 2);
    expect(refused[0]).toMatchObject({ code: "TOO_MANY_REQUESTS" });
    expect(socket.connected).toBe(true);
  });
});
