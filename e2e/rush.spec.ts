// The Rush hour lab from the developer console: a short rush started in the browser drives the shop
// with the real load process; the live charts move (their captions say the latest figures in words),
// the queues are tabled, and the finished run is saved and laid out in the comparison.
import { expect, screenPath, test } from "./console-fixtures";
import { db } from "./fixtures";

test("a short rush from /dev: the charts move and the run is saved", async ({ page, devTools, shop }) => {
  test.setTimeout(120_000);
  void devTools; // puts the knobs back afterwards
  await shop.createProduct({ stock: 100 });

  await page.goto("/dev");
  await page.getByRole("link", { name: /Rush hour/ }).click();
  await expect(page.getByRole("heading", { name: "Rush hour", level: 1 })).toBeVisible();

  const form = page.getByRole("form", { name: "Start a rush" });
  await form.getByLabel("Shoppers").fill("3");
  await form.getByLabel("Duration").selectOption({ label: "10 s" });
  await form.getByLabel("Checkout mode").selectOption({ label: "Async" });
  await form.getByRole("button", { name: "Start" }).click();

  const live = page.getByRole("region", { name: /^Running now/ });
  await expect(live).toBeVisible();
  // The chart of placed orders says its latest value in words: it moves above zero while the rush runs.
  const placed = live.getByRole("figure", { name: /Orders placed per second/ });
  await expect(placed).toContainText(/Latest: answered [1-9]/, { timeout: 20_000 });
  await expect(live.getByRole("figure", { name: /Time to answer a checkout/ })).toContainText(/p50 \d/);
  await expect(live.getByRole("row", { name: /Receipt email/ })).toBeVisible();
  await page.screenshot({ path: screenPath("rush-running"), fullPage: true });

  const finished = page.getByRole("region", { name: /^Last run/ });
  await expect(finished).toContainText("Finished after", { timeout: 60_000 });
  const label = "Async: 3 shoppers, pause 1s, for 10s";
  const saved = page.getByRole("region", { name: "Saved runs" });
  await expect(saved.getByRole("checkbox", { name: new RegExp(`^${label}`) }).first()).toBeChecked();
  const comparison = saved.getByRole("region", { name: "Runs side by side" });
  await expect(comparison.getByRole("row", { name: /^Orders placed \d/ })).toContainText(/[1-9]/);
  await page.screenshot({ path: screenPath("rush-saved"), fullPage: true });

  // The run's orders (tagged with its id) go, as every story's own orders do.
  const prisma = await db();
  const run = await prisma.loadRun.findFirstOrThrow({ where: { label }, orderBy: { startedAt: "desc" } });
  const runId = (run.summary as { runId?: string } | null)?.runId;
  expect(runId).toBeTruthy();
  await prisma.order.deleteMany({ where: { customerEmail: { endsWith: `.${runId}@load.example` } } });
});
