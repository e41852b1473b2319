// The shop as other machines and other sites see it: it listens on loopback only, answers only names
// of this machine (a rebound DNS name gets nothing), and every page carries security headers whose
// Content Security Policy the pages keep (the shared fixture fails any story the policy had to block).
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import { expect, screenPath, test } from "./fixtures";

const PAGES = ["/", "/cart", "/checkout", "/orders", "/dev", "/mailbox"];

function get(port: number, host: string, headers: Record<string, string> = {}) {
  return new Promise<number>((resolve, reject) => {
    http
      .get({ host, port, path: "/", headers }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
      .on("error", reject);
  });
}

test("every page carries the security headers, and a fresh script nonce each time", async ({ request }) => {
  for (const path of PAGES) {
    const [first, second] = [await request.get(path), await request.get(path)];
    expect(first.status(), path).toBe(200);
    const headers = first.headers();
    expect(headers["x-content-type-options"]).toBe("nosniff");
    expect(headers["referrer-policy"]).toBe("same-origin");
    expect(headers["x-frame-options"]).toBe("DENY");
    const policy = headers["content-security-policy"] ?? "";
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).toContain("object-src 'none'");
    const nonce = /script-src 'self' 'nonce-([A-Za-z0-9+/=]+)' 'strict-dynamic'(;|$)/.exec(policy)?.[1];
    expect(nonce, `${path}: ${policy}`).toBeTruthy();
    expect(second.headers()["content-security-policy"]).not.toContain(nonce);
    // Every script the page ships carries this response's nonce.
    const scripts = (await first.text()).match(/<script\b[^>]*>/g) ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) expect(script, path).toContain(`nonce="${nonce}"`);
  }
  const api = await request.get("/api/trpc/product.list");
  expect(api.headers()["x-content-type-options"]).toBe("nosniff");
  expect(api.headers()["content-security-policy"]).toContain("default-src 'none'");
});

test("the pages work under their policy", async ({ page, shop }) => {
  const product = await shop.createProduct({ stock: 3 });
  await page.goto("/");
  const card = page.getByRole("article", { name: product.name });
  await card.getByRole("button", { name: "Add to cart" }).click();
  await page.getByRole("link", { name: "Cart, 1 item" }).click();
  await expect(page.getByLabel(`Quantity of ${product.name}`)).toHaveValue("1");
  await page.goto("/orders");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await page.goto("/mailbox");
  await expect(page.getByRole("heading", { name: "Mailbox" })).toBeVisible();
  await page.goto("/dev");
  await expect(page.getByLabel("Email latency (ms)")).toBeVisible();
  await page.screenshot({ path: screenPath("e2e-dev-under-csp"), fullPage: true });
});

test("no other page can frame the shop", async ({ browser, baseURL }) => {
  const page = await browser.newPage();
  const blocked: string[] = [];
  page.on("console", (message) => blocked.push(message.text()));
  await page.setContent(`<iframe title="shop" src="${baseURL}/dev"></iframe>`);
  await expect.poll(() => blocked.join("\n")).toMatch(/frame-ancestors 'none'/);
  await expect(page.frameLocator("iframe").getByRole("heading", { name: "Developer console" })).toHaveCount(
    0,
  );
  await page.close();
});

test("answers only names of this machine, so a rebound DNS name reaches nothing", async ({ baseURL }) => {
  const port = Number(new URL(baseURL ?? "").port);
  expect(await get(port, "127.0.0.1", { host: `localhost:${port}` })).toBe(200);
  expect(await get(port, "127.0.0.1", { host: `rebound.invalid:${port}` })).toBe(403);
});

/** The local addresses listening on `port`, as the kernel lists them (Linux): "127.0.0.1", "0.0.0.0", "::"… */
function listeningAddresses(port: number): string[] | null {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const found: string[] = [];
  for (const [file, family] of [
    ["/proc/net/tcp", 4],
    ["/proc/net/tcp6", 6],
  ] as const) {
    if (!existsSync(file)) return null;
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      const [address, portHex] = local?.split(":") ?? [];
      if (state !== "0A" || portHex !== hexPort || !address) continue; // 0A: LISTEN
      found.push(family === 4 ? ipv4(address) : address === "0".repeat(32) ? "::" : address);
    }
  }
  return found;
}

/** /proc/net/tcp writes an IPv4 address as little-endian hex: 0100007F is 127.0.0.1. */
function ipv4(hex: string): string {
  return (hex.match(/../g) ?? [])
    .reverse()
    .map((byte) => Number.parseInt(byte, 16))
    .join(".");
}

test("listens on loopback only, not on the machine's other addresses", async ({ baseURL }) => {
  const port = Number(new URL(baseURL ?? "").port);
  const addresses = listeningAddresses(port);
  test.skip(addresses === null, "no /proc/net/tcp on this system");
  expect(addresses).toEqual(["127.0.0.1"]);
});
