// bull-board, one click from the developer console: it renders under /dev/jobs within its own narrow
// Content Security Policy (the shared fixture fails the story on anything the policy blocks) and shows
// a job of an order just placed, by its queue.
import { expect, screenPath, test } from "./console-fixtures";

test("the console links to bull-board, which shows the side-effect queues and their jobs", async ({
  page,
  context,
  devTools,
  shop,
}) => {
  const product = await shop.createProduct({ stock: 5 });
  const shopper = await context.newPage();
  await devTools.buyInUI(shopper, { product, email: shop.email("jobs-board"), mode: "async" });

  await page.goto("/dev");
  await page.getByRole("link", { name: /Jobs \(bull-board\)/ }).click();
  await expect(page).toHaveURL(/\/dev\/jobs\/?$/);
  await expect(page).toHaveTitle("Storefront jobs");
  for (const queue of ["fraud", "email", "analytics", "fulfillment"]) {
    await expect(page.getByRole("link", { name: queue, exact: true }).first()).toBeVisible();
  }
  await page.getByRole("link", { name: "email", exact: true }).first().click();
  await expect(page).toHaveURL(/\/dev\/jobs\/queue\/email/);
  await page.screenshot({ path: screenPath("jobs-board"), fullPage: true });
});
