// The Rush hour lab from the developer console: a short rush started in the browser drives the shop
// with the real load process; the live charts move (their captions say the latest figures in words),
// the queues are tabled, and the finished run is saved and laid out in the comparison.
import { randomUUID } from "node:crypto";
import type { Locator } from "@playwright/test";
import { MODE_COLORS, modeShades } from "../app/_lib/colors";
import { drainBounds, drainBoundWords, formatMs, orderRatesWords } from "../app/_lib/rush";
import { DEFAULT_SHOP_CAPACITY, loadSettingsSchema, runViewSchema } from "../server/contract";
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
  const placed = live.getByRole("figure", { name: /Orders placed and done per second/ });
  await expect(placed).toContainText(/Latest: placed [1-9]/, { timeout: 20_000 });
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

/** How many pixels of a chart's canvas are drawn in `hex` (give or take antialiasing). */
async function pixelsIn(figure: Locator, hex: string): Promise<number> {
  const target = [1, 3, 5].map((at) => Number.parseInt(hex.slice(at, at + 2), 16));
  return figure.locator("canvas").evaluate((canvas: HTMLCanvasElement, rgb: number[]) => {
    const context = canvas.getContext("2d");
    if (!context) return 0;
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let at = 0; at < data.length; at += 4) {
      const near = rgb.every((value, channel) => Math.abs((data[at + channel] ?? 0) - value) <= 6);
      if (near && (data[at + 3] ?? 0) > 200) count++;
    }
    return count;
  }, target);
}

test("a burst (the Backlog experiment): every chart drawn, exact figures, words that match the charts", async ({
  page,
  devTools,
  shop,
}) => {
  test.setTimeout(180_000);
  void devTools; // puts the knobs back afterwards
  await shop.createProduct({ stock: 100 }); // the experiment tops it up
  const prisma = await db();
  const before = new Date();
  await page.goto("/dev/rush");
  await page.getByRole("button", { name: "Run “Backlog”" }).click();
  // While the burst's jobs wait, each queue's drain is held against what one consumer allows (email at
  // 150 ms a call), and orders done stand beside orders placed: a backlog is not throughput.
  const running = page.getByRole("region", { name: /^Running now: Burst, 1 consumer per queue/ });
  await expect(running.getByRole("list", { name: "Drain rate against its bound" })).toContainText(
    /Receipt email: [\d.]+\/s of [\d.]+\/s possible with \d+ consumers? at 150 ms/,
    { timeout: 60_000 },
  );
  await expect(running.locator("[data-run-words]")).toContainText(
    /Orders, last \d+ s: [\d.]+\/s placed, [\d.]+\/s done/,
  );
  const finished = page.getByRole("region", { name: /^Last run: Burst, 1 consumer per queue/ });
  await expect(finished).toContainText("Finished after", { timeout: 150_000 });

  const saved = await prisma.loadRun.findFirstOrThrow({
    where: { experiment: "backlog", startedAt: { gte: before } },
    orderBy: { startedAt: "desc" },
  });
  const run = runViewSchema.parse({
    ...saved,
    startedAt: saved.startedAt.toISOString(),
    endedAt: saved.endedAt.toISOString(),
  });
  const placed = run.summary?.placed ?? 0;
  expect(placed).toBeGreaterThan(0);

  // The answers all came within a second or two: a point each, drawn, in async's colour, not an empty chart.
  const answer = finished.getByRole("figure", { name: /Time to answer a checkout/ });
  expect(await pixelsIn(answer, MODE_COLORS.async)).toBeGreaterThan(20);
  const catalog = finished.getByRole("figure", { name: /catalog \(product\.list\) latency/ });
  expect(await pixelsIn(catalog, MODE_COLORS.async)).toBeGreaterThan(20);
  await expect(answer).toContainText(`exact, from ${placed.toLocaleString("en")} orders`);

  // Hovering the second the answers came in shows that second's exact figures, as saved.
  const index = run.samples.findIndex((sample) => sample.measured?.answerMs);
  const second = run.samples[index]?.measured?.answerMs;
  if (!second) throw new Error("no second with answers");
  const ts = run.samples.map((sample) => sample.t);
  const [first, last] = [ts[0] ?? 0, ts.at(-1) ?? 1];
  const plot = answer.locator(".u-over");
  const box = await plot.boundingBox();
  if (!box) throw new Error("no plot");
  const span = last === first ? 2 : last - first;
  const left = last === first ? 1 : (ts[index] ?? 0) - first;
  await plot.hover({ position: { x: (left / span) * box.width, y: box.height / 2 } });
  const tip = answer.locator("[data-chart-tip]");
  await expect(tip).toBeVisible();
  await expect(tip).toContainText(`p50 ${formatMs(second.p50)}`);
  await expect(tip).toContainText(`p99 ${formatMs(second.p99)}`);
  await page.screenshot({ path: screenPath("rush-burst-1280"), fullPage: true });

  // One consumer per queue: jobs waited. The words say so even after the backlog has drained.
  const words = finished.locator("[data-run-words]");
  await expect(words).not.toContainText(/no backlog/i);
  await expect(words).toContainText(
    /The backlog peaked at [\d,]+ jobs waiting at \d+ s and was gone at \d+ s/,
  );

  // The same words, worked out from the saved run by the helpers the page uses: the bound is one
  // consumer per worker process ÷ the email provider's 150 ms.
  const email = drainBounds(run).find((bound) => bound.step === "email");
  if (!email) throw new Error("no drain line for the email queue");
  expect(email.consumers).toBe(run.settings.workerProcesses);
  expect(email.boundPerSecond).toBeCloseTo(run.settings.workerProcesses / 0.15);
  await expect(words.getByRole("list", { name: "Drain rate against its bound" })).toContainText(
    drainBoundWords(email),
  );
  await expect(words).toContainText(orderRatesWords(run.samples, false) ?? "no order rates");
  await expect(
    finished.getByRole("figure", { name: /Orders placed and done per second/ }).getByText(/^Latest:/),
  ).toContainText(/placed [\d.]+\/s.*done [\d.]+\/s/);
  // The load process counted orders done in the window it counted orders placed (a subset of them).
  const donePerSecond = run.summary?.donePerSecond ?? null;
  expect(donePerSecond).not.toBeNull();
  expect(donePerSecond ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(run.summary?.ordersPerSecond ?? 0);

  // Whole-run figures in the comparison are the load process's own, over every order.
  const comparison = page.getByRole("region", { name: "Runs side by side" });
  await expect(comparison.getByRole("row", { name: /^Time to answer, p95 of every order/ })).toContainText(
    formatMs(run.summary?.answerMs.p95 ?? -1),
  );
  // The Backlog runs are compared (newest last), each in a shade of async's colour: this one drawn too.
  const shown = (await comparison.getByRole("columnheader").count()) - 1;
  const newest = modeShades("async", shown).at(-1) ?? MODE_COLORS.async;
  const compared = comparison.getByRole("figure", { name: /Time to answer, p95 of each second/ });
  expect(await pixelsIn(compared, newest)).toBeGreaterThan(20);

  await page.setViewportSize({ width: 390, height: 844 });
  await expect(answer).toBeVisible();
  await page.screenshot({ path: screenPath("rush-burst-390"), fullPage: true });

  await prisma.order.deleteMany({
    where: { customerEmail: { endsWith: `.${run.summary?.runId}@load.example` } },
  });
});

test("a run whose answers all came in one second is drawn as a point, with its value on hover", async ({
  page,
}) => {
  // A saved run as a fast burst leaves it: one second with answers, the rest without.
  const prisma = await db();
  const id = randomUUID();
  const plan = loadSettingsSchema.parse({ request: { burst: 40 }, target: "http://127.0.0.1:3000" });
  const second = { count: 40, p50: 38.2, p95: 71.6, p99: 88.4 };
  const samples = [1, 2, 3, 4, 5].map((t) => ({
    t,
    checkoutsPerSecond: t === 2 ? 40 : 0,
    refusedPerSecond: 0,
    measured: { answerMs: t === 2 ? second : null, doneMs: null, catalogMs: null },
    answerMs: t === 2 ? { p50: second.p50, p95: second.p95, p99: second.p99 } : null,
    doneMs: null,
    catalogMs: null,
    requestsInFlight: 0,
    requestSlotsInUse: 0,
    requestSlotLimit: 0,
    requestsWaitingForSlot: 0,
    queues: {},
  }));
  const startedAt = new Date();
  await prisma.loadRun.create({
    data: {
      id,
      label: "Async: one second of answers",
      experiment: `one-second-${id.slice(0, 8)}`,
      status: "finished",
      settings: { load: plan, shop: DEFAULT_SHOP_CAPACITY, workerProcesses: 1 },
      samples,
      problem: null,
      startedAt,
      endedAt: new Date(startedAt.getTime() + 5_000),
    },
  });
  try {
    await page.goto("/dev/rush");
    const comparison = page.getByRole("region", { name: "Runs side by side" });
    const chart = comparison.getByRole("figure", { name: /Time to answer, p95/ });
    await expect(chart).toBeVisible();
    await expect.poll(() => pixelsIn(chart, MODE_COLORS.async)).toBeGreaterThan(20);
    const plot = chart.locator(".u-over");
    const box = await plot.boundingBox();
    if (!box) throw new Error("no plot");
    await plot.hover({ position: { x: box.width / 4, y: box.height / 2 } }); // second 2 of 1–5
    await expect(chart.locator("[data-chart-tip]")).toContainText(
      `Async: one second of answers ${formatMs(second.p95)}`,
    );
    await page.screenshot({ path: screenPath("rush-one-second"), fullPage: true });
  } finally {
    await prisma.loadRun.delete({ where: { id } });
  }
});
