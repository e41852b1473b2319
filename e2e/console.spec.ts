// The developer console's main story: an email outage during an async checkout. The shopper's order
// is placed anyway; the receipt retries with backoff, gives up and waits in the dead-letter set; the
// developer lifts the outage and retries it; the shopper's open order page completes live.
import { expect, screenPath, test } from "./console-fixtures";

test("the console shows every knob, saves edits and marks the active preset", async ({ page, devTools }) => {
  await devTools.applyPreset("all-fast");
  await page.goto("/dev");

  for (const service of ["Payment", "Inventory", "Fraud", "Email", "Analytics", "Shipping"]) {
    await expect(page.getByLabel(`${service} latency (ms)`)).toHaveValue("0");
    await expect(page.getByLabel(`${service} jitter (ms)`)).toHaveValue("0");
    await expect(page.getByLabel(`${service} failure rate (%)`)).toHaveValue("0");
    await expect(page.getByLabel(`${service} down`)).not.toBeChecked();
    await expect(page.getByLabel(`${service} capacity`)).toHaveValue("50");
  }
  await expect(page.getByRole("button", { name: "All fast" })).toHaveAttribute("aria-pressed", "true");

  // A typed value is saved after a short pause; the knobs then match no preset.
  await page.getByLabel("Analytics latency (ms)").fill("250");
  await expect(page.getByText("Current: custom knobs")).toBeVisible();
  await page.reload();
  await expect(page.getByLabel("Analytics latency (ms)")).toHaveValue("250");

  const defaultMode = page.getByRole("group", { name: "Default checkout mode" });
  await expect(defaultMode.getByRole("radio", { name: "Async" })).toBeChecked();
  await defaultMode.getByRole("radio", { name: "Sync", exact: true }).check();
  await page.reload();
  await expect(defaultMode.getByRole("radio", { name: "Sync", exact: true })).toBeChecked();

  await page.getByRole("button", { name: "Realistic" }).click();
  await expect(page.getByRole("button", { name: "Realistic" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByLabel("Email latency (ms)")).toHaveValue("1200");
  await expect(page.getByLabel("Shipping latency (ms)")).toHaveValue("1500");
});

test("an email outage: the order stands, the receipt is dead-lettered, retried, and the order completes live", async ({
  page,
  context,
  devTools,
  shop,
}) => {
  test.setTimeout(90_000);
  const product = await shop.createProduct({ stock: 5, priceCents: 2400 });
  const email = shop.email("outage");

  // The developer takes the email provider down from the console.
  await page.goto("/dev");
  await page.getByRole("button", { name: "Email outage" }).click();
  await expect(page.getByRole("button", { name: "Email outage" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByLabel("Email down")).toBeChecked();

  // The shopper, in another tab of the same browser, buys asynchronously.
  const shopper = await context.newPage();
  const orderId = await devTools.buyInUI(shopper, { product, email, mode: "async" });
  const status = shopper.getByRole("region", { name: "Order status" });
  const emailStep = shopper.getByRole("listitem", { name: "Receipt email" });
  await expect(status).toContainText("Order placed");
  await expect(emailStep).toHaveAttribute("data-status", "retrying", { timeout: 10_000 });
  await expect(status).toContainText("Order placed");
  await expect(shopper.getByRole("listitem", { name: "Fulfillment" })).toHaveAttribute(
    "data-status",
    "succeeded",
    { timeout: 15_000 },
  );

  // After 4 attempts (backoff 1 s, 2 s, 4 s) the job rests in the dead-letter set.
  const deadLetter = page.getByRole("row", { name: `email dead letter for order ${orderId}` });
  await expect(deadLetter).toBeVisible({ timeout: 20_000 });
  await expect(deadLetter).toContainText("4/4");
  await expect(deadLetter.getByRole("link", { name: orderId.slice(0, 8) })).toHaveAttribute(
    "href",
    `/orders/${orderId}`,
  );
  await expect(emailStep).toHaveAttribute("data-status", "failed");
  await expect(status).toContainText("Needs attention");
  await page.screenshot({ path: screenPath("console-dead-letter"), fullPage: true });

  // Lift the outage, then replay the dead letter.
  await page.getByLabel("Email down").uncheck();
  await expect(page.getByLabel("Email down")).not.toBeChecked();
  await expect(page.getByRole("button", { name: "Realistic" })).toHaveAttribute("aria-pressed", "true");
  await deadLetter.getByRole("button", { name: "Retry" }).click();
  await expect(deadLetter).toHaveCount(0, { timeout: 10_000 });

  // The shopper's page, open all along and never reloaded, catches up on its own.
  await expect(emailStep).toHaveAttribute("data-status", "succeeded", { timeout: 15_000 });
  await expect(status).toContainText("Completed", { timeout: 15_000 });
  await shopper.screenshot({ path: screenPath("console-order-recovered"), fullPage: true });
  expect(await shop.ordersFor(email)).toEqual([
    expect.objectContaining({ id: orderId, status: "completed" }),
  ]);
});
