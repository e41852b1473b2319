// The shop behind nginx (`npm run cluster`: two web processes, one worker, started here on ports of
// their own, sharing this suite's database and Redis): a shopper buys, and while the order page watches
// its side effects live, the web process holding the page's WebSocket is SIGKILLed. The page reconnects
// through nginx to the other web process and keeps updating, without a reload, to what the database says.
import { acceptedOn, type ClusterRun, freePortBlock, runCluster } from "../test/cluster/harness";
import { expect, test } from "./fixtures";
import {
  arriveAtOrder,
  expectCompleted,
  fetchOrder,
  fillCheckout,
  pressPurchase,
  readStepHistory,
  recordStepHistory,
  stepRow,
} from "./flows";

let run: ClusterRun;
let shopUrl = "";

test.beforeAll(async () => {
  test.setTimeout(150_000);
  run = runCluster(["--web", "2", "--workers", "1", "--port", String(await freePortBlock(2))]);
  shopUrl = await run.ready;
});
test.afterAll(async () => {
  run.child.kill("SIGINT");
  expect(await run.exit).toEqual({ code: 0, signal: null });
});

test("the order page keeps updating through nginx after its web process is killed", async ({
  page,
  shop,
}) => {
  const product = await shop.createProduct({ stock: 5 });
  await shop.configure({ services: { email: { latencyMs: 5000 } } });

  await page.goto(`${shopUrl}/`);
  await fillCheckout(page, { product, email: shop.email("cluster") });
  const { orderId } = await arriveAtOrder(page, await pressPurchase(page));
  await expect(page.getByText("Live", { exact: true })).toBeVisible();
  await recordStepHistory(page);
  await expect(stepRow(page, "Receipt email")).toHaveAttribute("data-status", "running");

  // The web process nginx handed the page's WebSocket to: the one connection still open to a web process.
  const web = run.started().filter((member) => member.name.startsWith("web"));
  const portOf = (url: string | null) => Number(new URL(url ?? "").port);
  let open: string[] = [];
  await expect(async () => {
    open = [...acceptedOn(web.map((member) => portOf(member.url)))];
    expect(open).toHaveLength(1);
  }).toPass({ timeout: 5_000 });
  const victim = web.find((member) => open[0]?.startsWith(`${portOf(member.url)}<-`));
  if (!victim) throw new Error(`no web process accepted ${open[0]}`);
  process.kill(victim.pid, "SIGKILL");

  await expectCompleted(page);
  await expect(page.getByText("Live", { exact: true })).toBeVisible();
  expect(await readStepHistory(page), "updated live, never reloaded").not.toBeNull();
  const stored = await fetchOrder(page, orderId);
  expect(stored.status).toBe("completed");
  for (const step of stored.steps) {
    await expect(page.locator(`li[data-step="${step.name}"]`)).toHaveAttribute("data-status", step.status);
  }
  expect(run.lines.join("\n")).toContain(`${victim.name} (pid ${victim.pid}) exited on SIGKILL`);
});
