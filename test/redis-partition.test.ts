// A network partition between the shop and Redis: the connection stays open, nothing is refused, no
// reply ever comes (a peer gone silent, a firewall dropping packets). A process that thinks Redis is
// there sends its command and, without a limit, waits for good; so the connection for short commands
// gives each one COMMAND_TIMEOUT_MS, and a checkout goes on without Redis as it does in an outage. The
// shop talks to a private redis-server through a proxy that this file can make swallow every byte.
import net from "node:net";
import getPort from "get-port";
import { expect, it } from "vitest";
import { PrivateRedis } from "../tools/lib/private-redis";

const redisServer = new PrivateRedis(await getPort());
await redisServer.start();

/** Forwards every byte between its clients and Redis, or none while partitioned; healing resets the
 * connections, as a partition long enough to notice does. */
class PartitionProxy {
  partitioned = false;
  private readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((client) => {
    const upstream = net.connect(redisServer.port, "127.0.0.1");
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(from);
      from.on("data", (bytes) => {
        if (!this.partitioned) to.write(bytes);
      });
      from.on("error", () => {});
      from.on("close", () => {
        this.sockets.delete(from);
        to.destroy();
      });
    }
  });

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(port, "127.0.0.1", resolve));
  }

  heal(): void {
    this.partitioned = false;
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.heal();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const proxy = new PartitionProxy();
const proxyPort = await getPort();
await proxy.listen(proxyPort);
process.env.REDIS_URL = `redis://127.0.0.1:${proxyPort}`;
process.env.REDIS_PREFIX = "storefront-partition";

// Imported after the environment points at the proxy.
const { updateSettings } = await import("../server/downstream/settings");
const { callerFor, createProduct, orderInput, readOrder, waitForOrder } = await import("./helpers");
const { workerSideForTheFile } = await import("./private-redis-file");

workerSideForTheFile(
  () => proxy.heal(),
  async () => {
    await proxy.close();
    await redisServer.kill();
  },
);

it("answers a checkout while Redis is cut off without a word, and runs its side effects once it is back", async () => {
  // A payment that takes a moment asks Redis for one of the gateway's slots (capacity is counted there).
  await updateSettings({ services: { payment: { latencyMs: 5 } } });
  const product = await createProduct({ stock: 5 });
  const before = await callerFor().order.place(orderInput(product.id));
  await waitForOrder(readOrder(before.id), (order) => order.status === "completed");

  proxy.partitioned = true;
  let placed: Awaited<ReturnType<ReturnType<typeof callerFor>["order"]["place"]>>;
  try {
    // Answered at all: a command that waited for its reply would wait for good.
    placed = await callerFor().order.place(orderInput(product.id));
  } finally {
    proxy.heal();
  }
  expect(placed.status).toBe("placed");
  const order = await waitForOrder(readOrder(placed.id), (current) => current.status === "completed", 30_000);
  expect(order.steps.every((step) => step.status === "succeeded")).toBe(true);
}, 60_000);
