// With DEV_TOOLS=off the console's procedures refuse, /metrics and bull-board are not there, and the
// shop still works.
import { expect, it } from "vitest";

process.env.DEV_TOOLS = "off";
const { callerFor, serveWebRoutes } = await import("./helpers");
const web = serveWebRoutes();

it("answers FORBIDDEN for every dev procedure", async () => {
  const dev = callerFor().dev;
  await expect(dev.settings()).rejects.toMatchObject({ code: "FORBIDDEN" });
  await expect(dev.updateSettings({ defaultMode: "sync" })).rejects.toMatchObject({ code: "FORBIDDEN" });
  await expect(dev.queues()).rejects.toMatchObject({ code: "FORBIDDEN" });
  await expect(dev.mailbox()).rejects.toMatchObject({ code: "FORBIDDEN" });
});

it("answers 404 for /metrics (METRICS follows DEV_TOOLS) and for bull-board under /dev/jobs", async () => {
  for (const path of ["/metrics", "/dev/jobs", "/dev/jobs/", "/dev/jobs/api/queues"]) {
    expect((await fetch(`${web.url()}${path}`)).status, path).toBe(404);
  }
});
