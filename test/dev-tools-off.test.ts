// With DEV_TOOLS=off the console's procedures refuse, and the shop still works.
import { expect, it } from "vitest";

process.env.DEV_TOOLS = "off";
const { callerFor } = await import("./helpers");

it("answers FORBIDDEN for every dev procedure", async () => {
  const dev = callerFor().dev;
  await expect(dev.settings()).rejects.toMatchObject({ code: "FORBIDDEN" });
  await expect(dev.updateSettings({ defaultMode: "sync" })).rejects.toMatchObject({ code: "FORBIDDEN" });
  await expect(dev.queues()).rejects.toMatchObject({ code: "FORBIDDEN" });
  await expect(dev.mailbox()).rejects.toMatchObject({ code: "FORBIDDEN" });
});
