// Cross-site writes at the HTTP edge: a page of another site must not be able to change anything in
// the shop, not even with a "simple" request (a form post needs no preflight). Clients that are no
// page at all (curl, scripts, the load generator) send no Origin and keep working. Real HTTP into the
// handler the web process mounts.
import { afterAll, describe, expect, it } from "vitest";

process.env.ALLOWED_ORIGINS = "http://console.shop.invalid:8080";
const { closeConnections, serveApi } = await import("./helpers");

const api = serveApi();
afterAll(closeConnections);

/** A harmless write: sets the default mode to what the tests use anyway. */
const WRITE = { path: "dev.updateSettings", body: JSON.stringify({ defaultMode: "async" }) };

async function post(path: string, headers: Record<string, string>, body: BodyInit = WRITE.body) {
  const response = await fetch(`${api.url()}/${path}`, { method: "POST", headers, body });
  const json = (await response.json()) as { error?: { message: string } };
  return { status: response.status, message: json.error?.message };
}

const json = { "content-type": "application/json" };
const ownOrigin = () => new URL(api.url()).origin;

describe("writes (tRPC mutations)", () => {
  it("refuses a form post, the kind any site can send without a preflight: 415", async () => {
    const form = new FormData();
    form.set("x", "1");
    const { status, message } = await post(
      "dev.retryAllDeadLetters",
      { origin: "http://evil.invalid" },
      form,
    );
    expect(status).toBe(415);
    expect(message).toMatch(/application\/json/);
    // Even without an Origin: nothing but JSON changes anything.
    expect((await post("dev.retryAllDeadLetters", {}, form)).status).toBe(415);
    expect((await post(WRITE.path, { "content-type": "application/octet-stream" })).status).toBe(415);
  });

  it("refuses JSON from another site's page: 403, with the reason", async () => {
    const { status, message } = await post(WRITE.path, { ...json, origin: "http://evil.invalid" });
    expect(status).toBe(403);
    expect(message).toMatch(/http:\/\/evil\.invalid/);
    // Another port of the same host is the same *site*, and its requests carry the shop's cookies.
    const otherPort = new URL(ownOrigin());
    otherPort.port = String(Number(otherPort.port) + 1);
    expect((await post(WRITE.path, { ...json, origin: otherPort.origin })).status).toBe(403);
    expect((await post(WRITE.path, { ...json, origin: "null" })).status).toBe(403);
  });

  it("refuses what Sec-Fetch-Site marks as cross-site or same-site when no Origin is sent", async () => {
    expect((await post(WRITE.path, { ...json, "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await post(WRITE.path, { ...json, "sec-fetch-site": "same-site" })).status).toBe(403);
  });

  it("accepts the shop's own pages, allowed origins, and clients that are no page at all", async () => {
    expect((await post(WRITE.path, { ...json, origin: ownOrigin() })).status).toBe(200);
    expect((await post(WRITE.path, { ...json, "sec-fetch-site": "same-origin" })).status).toBe(200);
    expect((await post(WRITE.path, { ...json, origin: "http://console.shop.invalid:8080" })).status).toBe(
      200,
    );
    expect((await post(WRITE.path, json)).status).toBe(200);
  });

  it("leaves reads alone: a query from anywhere answers (the browser keeps other sites from reading it)", async () => {
    const response = await fetch(`${api.url()}/product.list`, { headers: { origin: "http://evil.invalid" } });
    expect(response.status).toBe(200);
    // A write cannot be sent as a GET either (tRPC answers 405 before anything runs).
    expect((await fetch(`${api.url()}/dev.retryAllDeadLetters`)).status).toBe(405);
  });
});
