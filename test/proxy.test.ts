// A reverse proxy on the same machine must not open the developer tools to the network. The web routes
// listen on loopback with no DEV_TOOLS_KEY (as `npm run shop` does), and a real nginx, with the
// configuration `npm run cluster` writes, stands in front of them: every request it relays comes from
// 127.0.0.1, yet whoever sent it to nginx may be anywhere. Relayed requests carry its X-Forwarded-*
// headers, so they are not from this machine: the developer tools are locked (with no key to unlock
// them) and /metrics is refused, while the same requests sent straight to the web routes stay open.
import getPort from "get-port";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nginxConfig } from "../tools/cluster/nginx";
import { closeConnections, makeServicesFast, serveWebRoutes } from "./helpers";
import { type RunningNginx, startNginx } from "./nginx";

const web = serveWebRoutes();
let nginx: RunningNginx;
let proxy = "";

beforeAll(async () => {
  await makeServicesFast();
  const port = await getPort();
  proxy = `http://127.0.0.1:${port}`;
  const webPort = Number(new URL(web.url()).port);
  nginx = await startNginx(
    (dir) => nginxConfig({ dir, host: "127.0.0.1", port, webPorts: [webPort] }),
    proxy,
  );
});
afterAll(async () => {
  await nginx?.stop();
  await closeConnections();
});

async function get(base: string, path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${base}${path}`, { headers });
  return { status: response.status, text: await response.text() };
}

async function post(base: string, procedure: string, body: unknown) {
  const response = await fetch(`${base}/api/trpc/${procedure}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

const ACCESS = "/api/trpc/dev.access";

describe("developer tools without a key, behind nginx on the same machine", () => {
  it("are open to this machine when asked directly (the control)", async () => {
    expect((await get(web.url(), ACCESS)).text).toContain('"access":"open"');
    expect((await get(web.url(), "/api/trpc/dev.mailbox")).status).toBe(200);
    expect((await get(web.url(), "/dev/jobs/api/queues")).status).toBe(200);
    expect((await get(web.url(), "/metrics")).status).toBe(200);
  });

  it("are locked through the proxy: no mailbox, no knobs, no queues board, no metrics", async () => {
    expect((await get(proxy, ACCESS)).text).toContain('"access":"locked"');
    const mailbox = await get(proxy, "/api/trpc/dev.mailbox");
    expect(mailbox.status).toBe(401);
    expect(mailbox.text).toMatch(/only this machine/);
    expect((await post(proxy, "dev.updateSettings", { defaultMode: "sync" })).status).toBe(401);
    expect((await get(proxy, "/dev/jobs/api/queues")).status).toBe(401);
    expect((await get(proxy, "/metrics")).status).toBe(401);
    // There is no key to enter, and the answer says so instead of inviting guesses.
    const unlock = await post(proxy, "dev.unlock", { key: "any key of sixteen characters" });
    expect(unlock.status).toBe(401);
    expect(unlock.text).toMatch(/no DEV_TOOLS_KEY/);
  });

  it("are locked for any request that carries a proxy's headers, whoever added them", async () => {
    const proxyHeaders: Record<string, string>[] = [
      { forwarded: "for=192.0.2.60" },
      { via: "1.1 edge" },
      { "x-forwarded-for": "127.0.0.1" },
      { "x-forwarded-host": "127.0.0.1" },
      { "x-real-ip": "127.0.0.1" },
    ];
    for (const header of proxyHeaders) {
      const name = Object.keys(header).join();
      expect((await get(web.url(), ACCESS, header)).text, name).toContain('"access":"locked"');
      expect((await get(web.url(), "/metrics", header)).status, name).toBe(401);
    }
  });
});
