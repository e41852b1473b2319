// The happy path: browse, add to cart, check out, purchase, and land on the order, which then
// finishes its side effects live on the page.
import { expect, screenPath, test } from "./fixtures";

test("a shopper buys a product and watches the order complete", async ({ page, shop }) => {
  const product = await shop.createProduct({ stock: 5, priceCents: 1850 });
  const email = shop.email("purchase");

  await page.goto("/");
  await page.getByRole("radio", { name: "Async", exact: true }).check();
  const card = page.getByRole("article", { name: product.name });
  await expect(card.getByText("Only 5 left")).toBeVisible();
  await card.getByRole("button", { name: "Add to cart" }).click();
  await card.getByRole("button", { name: "Add to cart" }).click();
  await expect(page.getByRole("link", { name: "Cart, 2 items" })).toBeVisible();
  await page.screenshot({ path: screenPath("e2e-catalog"), fullPage: true });

  await page.getByRole("link", { name: "Cart, 2 items" }).click();
  await expect(page.getByLabel(`Quantity of ${product.name}`)).toHaveValue("2");
  await page.screenshot({ path: screenPath("e2e-cart"), fullPage: true });

  await page.getByRole("link", { name: "Checkout" }).click();
  await page.getByLabel("Name").fill("Grace Hopper");
  await page.getByLabel("Email").fill(email);
  await page.screenshot({ path: screenPath("e2e-checkout"), fullPage: true });
  await page.getByRole("button", { name: /Purchase/ }).click();

  await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name: "Thank you, Grace Hopper" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Order status" })).toContainText(/Order placed|Completed/);
  for (const step of ["Reserve stock", "Authorize payment", "Confirm order"]) {
    await expect(page.getByRole("listitem", { name: step })).toHaveAttribute("data-status", "succeeded");
  }
  const items = page.getByRole("list", { name: "Items" });
  await expect(items).toContainText(product.name);
  await expect(items).toContainText("× 2");
  await expect(page.getByRole("region", { name: "Items" })).toContainText("$37.00");
  await expect(page.getByRole("link", { name: "Cart, 0 items" })).toBeVisible();

  // The side effects finish after the answer and arrive over socket.io, without a reload. They run
  // on the worker, so allow for a busy machine.
  const later = { timeout: 15_000 };
  for (const step of ["Fraud screening", "Receipt email", "Analytics", "Fulfillment"]) {
    await expect(page.getByRole("listitem", { name: step })).toHaveAttribute(
      "data-status",
      "succeeded",
      later,
    );
  }
  await expect(page.getByRole("region", { name: "Order status" })).toContainText("Completed", later);
  await page.screenshot({ path: screenPath("e2e-order"), fullPage: true });

  const orders = await shop.ordersFor(email);
  expect(orders).toEqual([expect.objectContaining({ status: "completed", totalCents: 3700 })]);
  expect(await shop.stockOf(product.id)).toBe(3);
});
