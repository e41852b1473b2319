// The header's checkout-mode toggle decides what the Purchase request waits for. Sync: the spinner
// pays for every side effect one after another, and a broken email provider breaks the checkout.
// Async: the shopper has the answer before the email is sent, and an outage only delays the email.
// Sync-parallel: the side effects run side by side, so the request waits for the slowest chain only.
// Every timing assertion is a lower bound or an ordering that follows from the configured latencies.

import type { Page } from "@playwright/test";
import type { CheckoutMode, OrderView, StepName } from "../server/contract";
import { expect, screenPath, test } from "./console-fixtures";
import {
  arriveAtOrder,
  chooseMode,
  expectCompleted,
  fetchOrder,
  fillCheckout,
  LATER,
  MODES,
  ORDER_URL,
  openShop,
  orderStatus,
  pressPurchase,
  stepRow,
} from "./flows";

const EMAIL_MS = 1500;

/** Kept in the report's annotations (`--reporter=json`), for comparing the modes across runs. */
function report(label: string, ms: number): void {
  test.info().annotations.push({ type: `click→order page (${label})`, description: `${ms} ms` });
}

/** The order page's "Checkout mode" figure. */
async function expectModeShown(page: Page, mode: CheckoutMode): Promise<void> {
  await expect(
    page.getByRole("region", { name: "Timings" }).getByText(MODES[mode].label, { exact: true }),
  ).toBeVisible();
}

function step(order: OrderView, name: StepName) {
  const found = order.steps.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`order ${order.id} has no ${name} step`);
  return found;
}

const at = (iso: string | null): number => {
  expect(iso, "a timestamp the step should have").not.toBeNull();
  return Date.parse(iso ?? "");
};

test.describe("the sync ⇄ async toggle", () => {
  test("Sync: the spinner waits for the email, steps live, before the order page", async ({ page, shop }) => {
    await shop.configure({ services: { email: { latencyMs: EMAIL_MS } } });
    const product = await shop.createProduct({ stock: 5 });

    await openShop(page);
    await chooseMode(page, "sync");
    await fillCheckout(page, { product, email: shop.email("sync") });
    await expect(page.getByText("Checkout mode: Sync")).toBeVisible();
    const clickedAt = await pressPurchase(page);

    const progress = page.getByRole("region", { name: "Placing your order" });
    await expect(progress).toContainText("Placing your order…");
    await expect(progress).toContainText("Sync checkout");
    const steps = progress.getByRole("list", { name: "Checkout steps" });
    // One after another: while the receipt is being sent, fraud screening is done and analytics has not
    // started. Read as one snapshot of the list, so the email finishing between two reads cannot race it.
    const statuses = () =>
      steps
        .getByRole("listitem")
        .evaluateAll((items) =>
          Object.fromEntries(
            items.map((item) => [item.getAttribute("aria-label"), item.getAttribute("data-status")]),
          ),
        );
    await expect
      .poll(statuses)
      .toMatchObject({ "Receipt email": "running", "Fraud screening": "succeeded", Analytics: "pending" });
    await expect(page).toHaveURL(/\/checkout$/);
    await page.screenshot({ path: screenPath("sync-mid-wait"), fullPage: true });

    const { orderId, ms } = await arriveAtOrder(page, clickedAt);
    report("sync, email 1500 ms", ms);
    expect(ms).toBeGreaterThanOrEqual(EMAIL_MS);

    await expectModeShown(page, "sync");
    await expectCompleted(page);
    const order = await fetchOrder(page, orderId);
    expect(order.status).toBe("completed");
    // The answer came only after the email was sent.
    expect(at(order.confirmedAt)).toBeGreaterThanOrEqual(at(step(order, "email").finishedAt));
  });

  test("Async: the order page answers before the email is sent, then completes live", async ({
    page,
    shop,
    devTools,
  }) => {
    await shop.configure({ services: { email: { latencyMs: EMAIL_MS } } });
    const product = await shop.createProduct({ stock: 5 });
    // The receipts wait in their queue until the page has answered: the answer cannot have waited
    // for the email, and the test never races the email's latency.
    await devTools.pauseQueue("email");

    await openShop(page);
    await chooseMode(page, "async");
    await fillCheckout(page, { product, email: shop.email("async") });
    await expect(page.getByText("Checkout mode: Async")).toBeVisible();
    const clickedAt = await pressPurchase(page);
    const { orderId, ms } = await arriveAtOrder(page, clickedAt);
    report("async, email 1500 ms", ms);

    await expect(orderStatus(page)).toContainText("Order placed");
    await expect(stepRow(page, "Receipt email")).toHaveAttribute("data-status", "pending");
    await expectModeShown(page, "async");

    await devTools.resumeQueue("email");
    await expectCompleted(page);
    const order = await fetchOrder(page, orderId);
    // The shopper's answer came before the receipt went out.
    expect(at(order.confirmedAt)).toBeLessThan(at(step(order, "email").finishedAt));
    const queued = at(step(order, "email").startedAt) - at(order.confirmedAt);
    test.info().annotations.push({ type: "answer→email started (queue delay)", description: `${queued} ms` });
  });

  test("Sync with the email provider down: the checkout fails, nothing is kept", async ({ page, shop }) => {
    await shop.configure({ services: { email: { down: true } } });
    const product = await shop.createProduct({ stock: 5 });
    const email = shop.email("sync-outage");

    await openShop(page);
    await chooseMode(page, "sync");
    await fillCheckout(page, { product, email });
    await pressPurchase(page);

    const problem = page.getByRole("alert").filter({ hasText: "Checkout could not finish" });
    await expect(problem).toContainText(
      "Checkout failed because the email provider broke: Email provider is down.",
      LATER,
    );
    await expect(page).toHaveURL(/\/checkout$/);
    await expect(page.getByRole("button", { name: /^Purchase/ })).toBeEnabled();
    expect(await shop.stockOf(product.id)).toBe(5);
    expect(await shop.ordersFor(email)).toEqual([expect.objectContaining({ status: "failed" })]);

    await problem.getByRole("link", { name: "See what happened to this order" }).click();
    await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
    await expect(page.getByRole("heading", { name: "This order did not go through" })).toBeVisible();
    await expect(orderStatus(page)).toContainText("Failed");
    await expect(stepRow(page, "Authorize payment")).toHaveAttribute("data-status", "compensated");
    await expect(stepRow(page, "Authorize payment")).toContainText("Authorization voided");
    await expect(stepRow(page, "Reserve stock")).toContainText("Stock released");
    await expect(stepRow(page, "Receipt email")).toHaveAttribute("data-status", "failed");
    await expect(stepRow(page, "Receipt email")).toContainText("Email provider is down");
    await expectModeShown(page, "sync");
  });

  test("Sync with a fraud rejection: the checkout says no on the spot, as it does for an outage", async ({
    page,
    shop,
  }) => {
    await shop.configure({ services: { fraud: { latencyMs: 300 } } });
    const product = await shop.createProduct({ stock: 5 });
    const email = shop.email("sync-fraud");

    await openShop(page);
    await chooseMode(page, "sync");
    await fillCheckout(page, { product, email });
    await pressPurchase(page);

    const problem = page.getByRole("alert").filter({ hasText: "Fraud screening declined this order" });
    await expect(problem).toContainText(
      "Fraud screening rejected the order: the email address is on a watch list. Nothing was charged",
      LATER,
    );
    await expect(page).toHaveURL(/\/checkout$/);
    await expect(page.getByRole("button", { name: /^Purchase/ })).toBeEnabled();
    await expect(page.getByRole("link", { name: "Cart, 1 item" })).toBeVisible();
    await expect.poll(() => shop.stockOf(product.id)).toBe(5);
    await page.screenshot({ path: screenPath("sync-fraud-declined"), fullPage: true });

    await problem.getByRole("link", { name: "See what happened to this order" }).click();
    await page.waitForURL(ORDER_URL);
    // The same headline as a sync checkout that failed: the shopper never had a confirmed order.
    await expect(page.getByRole("heading", { name: "This order did not go through" })).toBeVisible();
    await expect(orderStatus(page)).toContainText("Cancelled");
    const note = page.getByText(/^Fraud screening rejected the order before the checkout answered/);
    await expect(note).toBeVisible();
    await expect(page.getByText("after it was placed")).toHaveCount(0);
    await expect(stepRow(page, "Authorize payment")).toContainText("Authorization voided");
  });

  test("Async with the email provider down: the order stands and the email retries", async ({
    page,
    shop,
    devTools,
  }) => {
    await shop.configure({ services: { email: { down: true } } });
    const product = await shop.createProduct({ stock: 5 });
    const email = shop.email("async-outage");

    await openShop(page);
    await fillCheckout(page, { product, email });
    const { orderId } = await arriveAtOrder(page, await pressPurchase(page));
    // Once the first attempt has failed, the queue holds the retries while the page is looked at, so
    // they cannot all run out (1 + 2 + 4 s of backoff) before the provider comes back.
    await expect
      .poll(async () => step(await fetchOrder(page, orderId), "email").status, LATER)
      .toBe("retrying");
    await devTools.pauseQueue("email");

    await expect(orderStatus(page)).toContainText("Order placed");
    const receipt = stepRow(page, "Receipt email");
    await expect(receipt).toHaveAttribute("data-status", "retrying", LATER);
    await expect(receipt).toContainText(/\b[1-9]\d* attempts?\b/);
    await expect(receipt).toContainText("Email provider is down");
    // Everything else carried on regardless.
    for (const label of ["Fraud screening", "Analytics", "Fulfillment"]) {
      await expect(stepRow(page, label)).toHaveAttribute("data-status", "succeeded", LATER);
    }
    expect(await shop.stockOf(product.id)).toBe(4);

    // The provider comes back before the retries run out: the next attempt sends the one receipt.
    await shop.configure({ services: { email: { down: false } } });
    await devTools.resumeQueue("email");
    await expect(receipt).toHaveAttribute("data-status", "succeeded", LATER);
    await expect(orderStatus(page)).toContainText("Completed", LATER);
    const order = await fetchOrder(page, orderId);
    expect(step(order, "email").attempts).toBeGreaterThanOrEqual(2);
  });

  test("Sync-parallel waits for the slowest chain, Sync for the sum", async ({ page, shop }) => {
    // Sum of the side effects: 300 + 600 + 300 + 400 = 1600 ms. Slowest chain: fraud → fulfillment, 700 ms.
    await shop.configure({
      services: {
        fraud: { latencyMs: 300 },
        email: { latencyMs: 600 },
        analytics: { latencyMs: 300 },
        shipping: { latencyMs: 400 },
      },
    });
    const product = await shop.createProduct({ stock: 5 });

    await openShop(page);
    await chooseMode(page, "sync");
    await fillCheckout(page, { product, email: shop.email("sync-sum") });
    const sync = await arriveAtOrder(page, await pressPurchase(page));
    report("sync, side effects 300+600+300+400", sync.ms);
    expect(sync.ms).toBeGreaterThanOrEqual(1600);
    await expectModeShown(page, "sync");
    await expectCompleted(page);

    await page.goto("/");
    await chooseMode(page, "sync-parallel");
    // What the toggle says is what the timings below show: the fraud → fulfillment chain sets the wait.
    await expect(
      page.getByText("the longest chain sets the wait: fraud screening, then fulfillment"),
    ).toBeVisible();
    await fillCheckout(page, { product, email: shop.email("sync-parallel") });
    const parallel = await arriveAtOrder(page, await pressPurchase(page));
    report("sync-parallel, side effects 300+600+300+400", parallel.ms);
    expect(parallel.ms).toBeGreaterThanOrEqual(700);
    // Quicker than sync because its chains overlapped (checked below on the steps' own times), not
    // timed against sync's click: a loaded machine can stretch any one request.
    await expectModeShown(page, "sync-parallel");
    await expectCompleted(page);

    // Sync: each side effect started after the one before it finished.
    const sequential = await fetchOrder(page, sync.orderId);
    expect(at(step(sequential, "email").startedAt)).toBeGreaterThanOrEqual(
      at(step(sequential, "fraud").finishedAt),
    );
    // Sync-parallel: the email ran while fraud screening did; fulfillment still waited for fraud.
    const overlapping = await fetchOrder(page, parallel.orderId);
    expect(at(step(overlapping, "email").startedAt)).toBeLessThan(at(step(overlapping, "fraud").finishedAt));
    expect(at(step(overlapping, "fulfillment").startedAt)).toBeGreaterThanOrEqual(
      at(step(overlapping, "fraud").finishedAt),
    );
    expect(await shop.stockOf(product.id)).toBe(3);
  });
});
