// The nginx that `npm run cluster` writes holds each client address to its share: a client over its
// connection or request limit is refused (429, Retry-After), another client at the same moment is not,
// and this machine's own 127.0.0.1 is not limited at all. Real nginx with the generated configuration;
// behind it a small upstream that answers `/hold` only when the test lets it, so that connections stay
// busy for exactly as long as the test says (no sleeps). Distinct clients are distinct loopback
// addresses (127.0.0.2, 127.0.0.3 …: all of 127/8 is this machine on Linux).

import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import getPort from "get-port";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_LIMITS, nginxConfig } from "../tools/cluster/nginx";
import { type RunningNginx, startNginx } from "./nginx";

/** Requests to /hold wait here until released; `arrived` resolves once `count` of them are waiting. */
const held: ServerResponse[] = [];
let heldWanted = 0;
let allHeld: () => void = () => {};
const upstream = createServer((req: IncomingMessage, res: ServerResponse) => {
  if (req.url === "/hold") {
    held.push(res);
    if (held.length === heldWanted) allHeld();
    return;
  }
  res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
});
function waitForHeld(count: number): Promise<void> {
  heldWanted = count;
  return held.length >= count ? Promise.resolve() : new Promise((resolve) => (allHeld = resolve));
}
function releaseHeld(): void {
  for (const res of held.splice(0)) res.writeHead(200).end("released\n");
}

let nginx: RunningNginx;
let port = 0;

beforeAll(async () => {
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const upstreamPort = (upstream.address() as AddressInfo).port;
  port = await getPort();
  nginx = await startNginx(
    (dir) => nginxConfig({ dir, host: "127.0.0.1", port, webPorts: [upstreamPort] }),
    `http://127.0.0.1:${port}/`,
  );
});
afterAll(async () => {
  releaseHeld();
  await nginx?.stop();
  await new Promise((resolve) => upstream.close(resolve));
});

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

/** One request through nginx from `from`, on a connection of its own. */
function get(from: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, localAddress: from, agent: false }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, retryAfter: res.headers["retry-after"] as string, body }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("nginx in front of the cluster", () => {
  it(`lets one address hold ${CLIENT_LIMITS.connections} busy connections, refuses the next, and not another address's`, async () => {
    const busy = Array.from({ length: CLIENT_LIMITS.connections }, () => get("127.0.0.2", "/hold"));
    await waitForHeld(CLIENT_LIMITS.connections);
    const over = await get("127.0.0.2", "/");
    expect(over.status).toBe(429);
    expect(over.retryAfter).toBe("1");
    expect(over.body).toMatch(/Too many requests or connections from your address/);
    expect((await get("127.0.0.3", "/")).status).toBe(200);
    // This machine's own address is not limited (the load generator runs here).
    const local = Array.from({ length: CLIENT_LIMITS.connections + 1 }, () => get("127.0.0.1", "/hold"));
    await waitForHeld(2 * CLIENT_LIMITS.connections + 1);
    releaseHeld();
    expect((await Promise.all(busy)).map((answer) => answer.status)).toEqual(busy.map(() => 200));
    expect((await Promise.all(local)).every((answer) => answer.status === 200)).toBe(true);
    // Its connections done, the address is served again.
    expect((await get("127.0.0.2", "/")).status).toBe(200);
  });

  it(`refuses an address past ${CLIENT_LIMITS.requestsPerSecond} requests/s (burst ${CLIENT_LIMITS.burst}), not another address`, async () => {
    // Sent one after another until refused: at least the burst goes through first, whatever the pace.
    let served = 0;
    let refused: Answer | null = null;
    while (!refused && served < 50 * CLIENT_LIMITS.burst) {
      const answer = await get("127.0.0.4", "/");
      if (answer.status === 429) refused = answer;
      else {
        expect(answer.status).toBe(200);
        served++;
      }
    }
    expect(served).toBeGreaterThanOrEqual(CLIENT_LIMITS.burst);
    expect(refused?.retryAfter).toBe("1");
    expect((await get("127.0.0.5", "/")).status).toBe(200);
  });
});
