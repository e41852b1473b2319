// With DEV_TOOLS_KEY set, the developer tools (every customer's orders in the mailbox, the fault knobs,
// the queues) answer nobody until the browser has entered the key once; the cookie it gets holds a
// token, not the key, and is httpOnly. Behind a proxy that says the browser used HTTPS, cookies are
// Secure. Real HTTP into the handler the web process mounts.
import { randomInt } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

const KEY = "correct horse battery staple";
process.env.DEV_TOOLS_KEY = KEY;
process.env.TRUST_PROXY = "on";
// Every cookie issued before an hour ago is refused (a lost laptop's, say).
const NOT_BEFORE_MS = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
process.env.DEV_TOOLS_NOT_BEFORE = new Date(NOT_BEFORE_MS).toISOString();
const { closeConnections, createProduct, makeServicesFast, orderInput, serveApi, serveWebRoutes } =
  await import("./helpers");
const { METRICS_JSON, processMetricsSchema } = await import("../server/metrics/readings");
const { DEV_TOOLS_COOKIE, devToolsToken } = await import("../server/http/auth/dev-tools");
const { UNLOCK_TRIES } = await import("../server/devtools/unlock-guard");
const { log } = await import("../server/log");
const { redis, redisKey } = await import("../server/redis");
const { SESSION_COOKIE } = await import("../server/http/session");

const api = serveApi();
const web = serveWebRoutes();
beforeAll(async () => {
  // Tries and lockouts of an earlier run of this file are not this run's.
  const left = await redis("command").keys(redisKey("dev-unlock", "*"));
  if (left.length > 0) await redis("command").del(...left);
});
beforeEach(() => makeServicesFast());
afterEach(() => vi.restoreAllMocks());
afterAll(closeConnections);

const json = { "content-type": "application/json" };

async function call(
  path: string,
  { body, headers = {} }: { body?: unknown; headers?: Record<string, string> },
) {
  const response = await fetch(`${api.url()}/${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? headers : { ...json, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = (await response.json()) as { error?: { message: string }; result?: { data: unknown } };
  return {
    status: response.status,
    payload,
    cookie: response.headers.get("set-cookie"),
    retryAfter: response.headers.get("retry-after"),
  };
}

async function unlock(key: string, headers: Record<string, string> = {}) {
  return call("dev.unlock", { body: { key }, headers });
}

describe("developer tools behind a key", () => {
  it("answer 401 to a browser without the key: no mailbox, no knobs, no queues", async () => {
    const mailbox = await call("dev.mailbox", {});
    expect(mailbox.status).toBe(401);
    expect(mailbox.payload.error?.message).toMatch(/locked/);
    expect((await call("dev.settings", {})).status).toBe(401);
    expect((await call("dev.queues", {})).status).toBe(401);
    expect((await call("dev.updateSettings", { body: { defaultMode: "sync" } })).status).toBe(401);
    expect((await call("dev.pauseQueue", { body: { queue: "email" } })).status).toBe(401);
    expect((await call("dev.access", {})).payload.result?.data).toEqual({ access: "locked" });
  });

  it("refuse a wrong key, and give no cookie for it", async () => {
    for (const wrong of ["nope", `${KEY} `, KEY.toUpperCase()]) {
      const answer = await unlock(wrong);
      expect(answer.status).toBe(401);
      expect(answer.cookie).toBeNull();
    }
  });

  it("open for the key, kept in an httpOnly cookie that does not contain the key", async () => {
    const answer = await unlock(KEY);
    expect(answer.status).toBe(200);
    expect(answer.cookie).toMatch(
      new RegExp(`^${DEV_TOOLS_COOKIE}=[\\w.-]+; Max-Age=\\d+; Path=/; HttpOnly; SameSite=Strict`),
    );
    expect(answer.cookie).not.toMatch(/Secure/);
    expect(answer.cookie).not.toContain(encodeURIComponent(KEY));
    const cookie = answer.cookie?.split(";")[0] ?? "";

    expect((await call("dev.mailbox", { headers: { cookie } })).status).toBe(200);
    expect((await call("dev.access", { headers: { cookie } })).payload.result?.data).toEqual({
      access: "unlocked",
    });
    const tampered = `${cookie.slice(0, -2)}xx`;
    expect((await call("dev.mailbox", { headers: { cookie: tampered } })).status).toBe(401);
  });

  it("carry the time they were issued: a cookie issued before DEV_TOOLS_NOT_BEFORE is refused", async () => {
    const before = Math.floor(Date.now() / 1000);
    const cookie = (await unlock(KEY)).cookie?.split(";")[0] ?? "";
    const issuedAt = Number(/=(\d+)\./.exec(cookie)?.[1]);
    expect(issuedAt).toBeGreaterThanOrEqual(before);
    expect(issuedAt).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    const accessWith = async (token: string) =>
      (await call("dev.access", { headers: { cookie: `${DEV_TOOLS_COOKIE}=${token}` } })).payload.result
        ?.data;
    // Made with the right key, so only the time tells them apart.
    expect(await accessWith(devToolsToken(KEY, NOT_BEFORE_MS + 1000))).toEqual({ access: "unlocked" });
    expect(await accessWith(devToolsToken(KEY, NOT_BEFORE_MS - 1000))).toEqual({ access: "locked" });
    expect(await accessWith(devToolsToken(KEY, Date.now() + 86_400_000))).toEqual({ access: "locked" });
    expect(await accessWith(devToolsToken("another key of sixteen+", Date.now()))).toEqual({
      access: "locked",
    });
  });

  it("lock a client out after a few wrong keys, even sent all at once, with one log line; others go on", async () => {
    const warnings = vi.spyOn(log, "warn");
    // A client of its own (the trusted proxy's X-Forwarded-For), so no other test shares its tries.
    const guesser = { "x-forwarded-for": `198.51.100.${randomInt(1, 255)}, 203.0.113.${randomInt(1, 255)}` };
    // A thousand tries, fifty at a time (more at once would overflow the test server's listen queue).
    const answers: Awaited<ReturnType<typeof unlock>>[] = [];
    for (let wave = 0; wave < 20; wave++) {
      const tries = Array.from({ length: 50 }, (_, index) => unlock(`wrong guess ${wave}.${index}`, guesser));
      answers.push(...(await Promise.all(tries)));
    }
    const statuses = answers.map((answer) => answer.status);
    // Every try is counted before its key is compared: only the first few are compared at all.
    expect(statuses.filter((status) => status === 401)).toHaveLength(UNLOCK_TRIES);
    expect(statuses.filter((status) => status === 429)).toHaveLength(1000 - UNLOCK_TRIES);
    const refused = answers.find((answer) => answer.status === 429);
    expect(refused?.retryAfter).toBe("60");
    expect(refused?.payload.error?.message).toMatch(
      /Too many wrong keys from this address: try again in 60 s/,
    );
    const lockouts = warnings.mock.calls.filter((args) => String(args[1]).includes("locked out"));
    expect(lockouts).toHaveLength(1);
    expect(lockouts[0]?.[0]).toMatchObject({ client: guesser["x-forwarded-for"].split(", ")[1] });
    // Locked out means the right key too, for now; another client is not locked out.
    expect((await unlock(KEY, guesser)).status).toBe(429);
    const other = { "x-forwarded-for": guesser["x-forwarded-for"].split(", ")[0] ?? "" };
    expect((await unlock(KEY, other)).status).toBe(200);
  });

  it("mark cookies Secure when the trusted proxy says the browser used HTTPS, and only then", async () => {
    const https = { "x-forwarded-proto": "https" };
    expect((await unlock(KEY, https)).cookie).toMatch(/; Secure(;|$)/);
    const product = await createProduct({ stock: 2 });
    const overHttps = await call("order.place", { body: orderInput(product.id), headers: https });
    expect(overHttps.status).toBe(200);
    expect(overHttps.cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[0-9a-f-]{36};.*; Secure(;|$)`));
    const overHttp = await call("order.place", { body: orderInput(product.id) });
    expect(overHttp.status).toBe(200);
    expect(overHttp.cookie).not.toMatch(/Secure/);
  });
});

describe("/metrics and bull-board with a key", () => {
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${web.url()}${path}`, { headers });
  const unlockedCookie = async () => (await unlock(KEY)).cookie?.split(";")[0] ?? "";

  it("/metrics needs the key, even from this machine behind a proxy: as a bearer token or the unlocked cookie", async () => {
    expect((await get("/metrics")).status).toBe(401);
    expect((await get("/metrics", { authorization: "Bearer not the key at all" })).status).toBe(401);
    expect((await get("/metrics", { authorization: `Basic ${KEY}` })).status).toBe(401);
    const withKey = await get("/metrics", { authorization: `Bearer ${KEY}`, accept: METRICS_JSON });
    expect(withKey.status).toBe(200);
    const metrics = processMetricsSchema.parse(await withKey.json());
    expect(metrics.find((metric) => metric.name === "storefront_orders_total")?.type).toBe("counter");
    expect((await get("/metrics", { cookie: await unlockedCookie() })).status).toBe(200);
  });

  it("bull-board answers 401 to a locked browser, page and API alike, and opens for the unlocked one", async () => {
    expect((await get("/dev/jobs")).status).toBe(401);
    expect((await get("/dev/jobs/api/queues")).status).toBe(401);
    expect((await get("/dev/jobs/api/queues", { authorization: `Bearer ${KEY}` })).status).toBe(401);
    const cookie = await unlockedCookie();
    expect((await get("/dev/jobs", { cookie })).status).toBe(200);
    expect((await get("/dev/jobs/api/queues", { cookie })).status).toBe(200);
  });
});
