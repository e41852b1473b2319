// Messages can wait: with the email queue paused (its consumers offline), async orders are still
// confirmed at once and their receipts pile up as a backlog; resuming the queue drains it.
import { expect, screenPath, test } from "./console-fixtures";

test("a paused email queue holds receipts until it is resumed", async ({ page, context, devTools, shop }) => {
  test.setTimeout(90_000);
  const product = await shop.createProduct({ stock: 10 });

  await page.goto("/dev");
  const emailQueue = page.getByRole("row", { name: "email queue", exact: true });
  await emailQueue.getByRole("button", { name: "Pause email queue" }).click();
  await expect(emailQueue).toContainText("consumers offline — messages can wait");
  const waitingBefore = Number(await emailQueue.locator('[data-state="waiting"]').textContent());
  // Completed jobs are what BullMQ keeps (a retention cap), not a total: the table says so.
  await expect(page.getByRole("columnheader", { name: "Completed, kept" })).toBeVisible();
  await expect(emailQueue.locator('[data-state="completed"]')).toHaveText(/^[\d,]+ kept( \(the cap\))?$/);

  const shopper = await context.newPage();
  const emails = [shop.email("paused-first"), shop.email("paused-second")];
  const orderIds: string[] = [];
  for (const email of emails) {
    orderIds.push(await devTools.buyInUI(shopper, { product, email, mode: "async" }));
    await expect(shopper.getByRole("region", { name: "Order status" })).toContainText("Order placed");
  }

  // Both receipts wait in the queue; everything else about the orders goes ahead.
  await expect
    .poll(async () => Number(await emailQueue.locator('[data-state="waiting"]').textContent()), {
      timeout: 10_000,
    })
    .toBeGreaterThanOrEqual(waitingBefore + 2);
  await page.screenshot({ path: screenPath("queues-paused"), fullPage: true });
  for (const orderId of orderIds) {
    await shopper.goto(`/orders/${orderId}`);
    await expect(shopper.getByRole("listitem", { name: "Fulfillment" })).toHaveAttribute(
      "data-status",
      "succeeded",
      { timeout: 15_000 },
    );
    await expect(shopper.getByRole("listitem", { name: "Receipt email" })).toHaveAttribute(
      "data-status",
      "pending",
    );
    await expect(shopper.getByRole("region", { name: "Order status" })).toContainText("Order placed");
  }

  await emailQueue.getByRole("button", { name: "Resume email queue" }).click();
  await expect(emailQueue).not.toContainText("consumers offline");

  // The shopper's page shows the second order; it completes live. The first one completed too.
  await expect(shopper.getByRole("listitem", { name: "Receipt email" })).toHaveAttribute(
    "data-status",
    "succeeded",
    { timeout: 15_000 },
  );
  await expect(shopper.getByRole("region", { name: "Order status" })).toContainText("Completed");
  await shopper.goto(`/orders/${orderIds[0]}`);
  await expect(shopper.getByRole("region", { name: "Order status" })).toContainText("Completed");
  for (const email of emails) {
    expect(await shop.ordersFor(email)).toEqual([expect.objectContaining({ status: "completed" })]);
  }
});
