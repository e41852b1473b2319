// The comparison view: the same purchase placed in each checkout mode, with moderately slow side
// effects. Sync keeps the shopper waiting until everything is done; async answers after the critical
// path and finishes later. The table and the chart show both clocks for every order.
import { expect, screenPath, test } from "./console-fixtures";
import { placeByApi } from "./flows";

const SLOW_SIDE_EFFECTS = {
  services: {
    fraud: { latencyMs: 300 },
    email: { latencyMs: 500 },
    analytics: { latencyMs: 100 },
    shipping: { latencyMs: 600 },
  },
};

/** "1.23 s" or "850 ms" as milliseconds. */
function parseDuration(text: string | null): number {
  const match = /([\d.]+)\s*(ms|s)/.exec(text ?? "");
  if (!match?.[1]) throw new Error(`not a duration: ${text}`);
  return Number(match[1]) * (match[2] === "s" ? 1000 : 1);
}

test("orders placed in each mode compare time to answer with time to done", async ({
  page,
  devTools,
  shop,
}) => {
  test.setTimeout(90_000);
  await shop.configure(SLOW_SIDE_EFFECTS);
  const product = await shop.createProduct({ stock: 20 });

  const placed: { id: string; mode: "async" | "sync" | "sync-parallel" }[] = [];
  for (const mode of ["sync", "async", "sync-parallel", "async", "sync"] as const) {
    const id = await devTools.buyInUI(page, { product, email: shop.email(mode), mode });
    placed.push({ id, mode });
  }

  await page.goto("/orders");
  await expect(page.getByRole("heading", { name: "Your orders, compared" })).toBeVisible();
  for (const { id } of placed) {
    const row = page.getByRole("row", { name: `Order ${id}` });
    await expect(row.getByRole("link", { name: id.slice(0, 8) })).toHaveAttribute("href", `/orders/${id}`);
    await expect(row.getByText("Completed").filter({ visible: true })).toBeVisible({ timeout: 15_000 });
  }

  for (const { id, mode } of placed) {
    const row = page.getByRole("row", { name: `Order ${id}` });
    const answer = parseDuration(await row.locator('[data-timing="answer"]').textContent());
    const done = parseDuration(await row.locator('[data-timing="done"]').textContent());
    // Done means the last step had finished and the shopper had the answer: never before the answer.
    expect(done).toBeGreaterThanOrEqual(answer);
    if (mode === "async") {
      // The shopper had an answer long before the side effects (fraud → shipping alone take 900 ms).
      expect(done - answer).toBeGreaterThan(800);
    } else {
      // The request waited for everything: the order had settled when the answer came, so it was
      // done the moment it answered.
      expect(done).toBe(answer);
      expect(answer).toBeGreaterThan(600);
    }
  }

  const medians = page.getByRole("list", { name: "Medians per mode" });
  await expect(medians.getByRole("listitem")).toHaveCount(3);
  await expect(page.getByRole("img", { name: /Median time to answer/ })).toBeVisible();
  await page.screenshot({ path: screenPath("orders-comparison"), fullPage: true });
});

test("medians count completed orders only; failed and cancelled ones are listed beside them", async ({
  page,
  devTools,
  shop,
}) => {
  void devTools; // puts the knobs back afterwards
  // A completed sync order waits for fraud screening and the email; a fraud rejection stops after
  // fraud screening, an email outage fails the checkout: both would pull a median down. The outage's
  // order ran under other knobs: it is compared with its own kind, under its own conditions.
  await shop.configure({ services: { fraud: { latencyMs: 200 }, email: { latencyMs: 700, down: true } } });
  const product = await shop.createProduct({ stock: 10 });
  await page.goto("/");
  const failed = await placeByApi(page, { product, email: shop.email("sync-outage"), mode: "sync" });
  await shop.configure({ services: { email: { down: false } } });
  const completed = await placeByApi(page, { product, email: shop.email("sync-ok"), mode: "sync" });
  const cancelled = await placeByApi(page, { product, email: shop.email("fraud"), mode: "sync" });
  expect(completed?.status).toBe("completed");
  expect(cancelled?.status).toBe("cancelled");
  expect(failed, "the outage refuses the sync checkout").toBeNull();

  await page.goto("/orders");
  await expect(page.getByText("Medians count completed orders only")).toBeVisible();
  const picker = page.getByRole("combobox", { name: "Conditions" });
  await picker.selectOption({ index: 1 });
  await expect(page.getByRole("listitem", { name: "Sync medians" })).toContainText("Not counted: 1 failed");
  await picker.selectOption({ index: 0 });
  const card = page.getByRole("listitem", { name: "Sync medians" });
  await expect(card).toContainText("median of 1 completed");
  await expect(card).toContainText("Not counted: 1 cancelled");
  // With one completed order, its medians are that order's own two numbers.
  const row = page.getByRole("row", { name: `Order ${completed?.id}` });
  for (const timing of ["answer", "done"]) {
    const shown = await row.locator(`[data-timing="${timing}"]`).textContent();
    await expect(card.locator(`[data-timing="${timing}"]`)).toHaveText(shown ?? "");
  }
  const waited = parseDuration(await card.locator('[data-timing="answer"]').textContent());
  expect(waited).toBeGreaterThan(850);
  await expect(page.getByRole("img", { name: /Median time to answer/ })).toHaveAttribute(
    "aria-label",
    new RegExp(`Sync: waited ${await card.locator('[data-timing="answer"]').textContent()}`),
  );
  await page.screenshot({ path: screenPath("orders-medians-completed-only"), fullPage: true });
});

test("time to done is never shown below time to answer, in any mode, completed or cancelled", async ({
  page,
  devTools,
  shop,
}) => {
  void devTools;
  // Voiding a payment takes time: a sync fraud rejection settles, then voids, then answers.
  await shop.configure({
    services: { payment: { latencyMs: 150 }, fraud: { latencyMs: 100 }, email: { latencyMs: 100 } },
  });
  const product = await shop.createProduct({ stock: 10 });
  await page.goto("/");
  const placed: string[] = [];
  for (const mode of ["async", "sync", "sync-parallel"] as const) {
    for (const label of ["ok", "fraud"]) {
      const order = await placeByApi(page, { product, email: shop.email(`${mode}-${label}`), mode });
      expect(order, `${mode} ${label} answered with an order`).not.toBeNull();
      placed.push(order?.id ?? "");
    }
  }

  for (const id of placed) {
    await page.goto(`/orders/${id}`);
    const status = page.getByRole("region", { name: "Order status" });
    await expect(status).toContainText(/Completed|Cancelled/, { timeout: 15_000 });
    const timings = page.getByRole("region", { name: "Timings" });
    const answer = parseDuration(await timings.locator('[data-timing="answer"]').textContent());
    const done = parseDuration(await timings.locator('[data-timing="done"]').textContent());
    expect(done, `order ${id}: done ${done} ms, answer ${answer} ms`).toBeGreaterThanOrEqual(answer);
  }

  await page.goto("/orders");
  for (const id of placed) {
    const row = page.getByRole("row", { name: `Order ${id}` });
    const answer = parseDuration(await row.locator('[data-timing="answer"]').textContent());
    const done = parseDuration(await row.locator('[data-timing="done"]').textContent());
    expect(done, `order ${id} in the table`).toBeGreaterThanOrEqual(answer);
  }
});
