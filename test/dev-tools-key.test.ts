// With DEV_TOOLS_KEY set, the developer tools (every customer's orders in the mailbox, the fault knobs,
// the queues) answer nobody until the browser has entered the key once; the cookie it gets holds a
// token, not the key, and is httpOnly. Behind a proxy that says the browser used HTTPS, cookies are
// Secure. Real HTTP into the handler the web process mounts.
import { afterAll, beforeEach, describe, expect, it } from "vitest";

const KEY = "correct horse battery staple";
process.env.DEV_TOOLS_KEY = KEY;
process.env.TRUST_PROXY = "on";
const { closeConnections, createProduct, makeServicesFast, orderInput, serveApi, serveWebRoutes } =
  await import("./helpers");
const { parsePrometheusText } = await import("../server/metrics/text");
const { DEV_TOOLS_COOKIE } = await import("../server/devtools/access");
const { SESSION_COOKIE } = await import("../server/session");

const api = serveApi();
const web = serveWebRoutes();
beforeEach(() => makeServicesFast());
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
  return { status: response.status, payload, cookie: response.headers.get("set-cookie") };
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
      new RegExp(`^${DEV_TOOLS_COOKIE}=[\\w-]+; Path=/; HttpOnly; SameSite=Strict`),
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

  it("mark cookies Secure when the trusted proxy says the browser used HTTPS, and only then", async () => {
    const https = { "x-forwarded-proto": "https" };
    expect((await unlock(KEY, https)).cookie).toMatch(/; Secure$/);
    const product = await createProduct({ stock: 2 });
    const overHttps = await call("order.place", { body: orderInput(product.id), headers: https });
    expect(overHttps.status).toBe(200);
    expect(overHttps.cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[0-9a-f-]{36};.*; Secure$`));
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
    const withKey = await get("/metrics", { authorization: `Bearer ${KEY}` });
    expect(withKey.status).toBe(200);
    expect(parsePrometheusText(await withKey.text()).storefront_orders_total?.type).toBe("counter");
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
