// An impatient double click on Purchase, while the payment gateway is slow, still makes one order:
// the button locks while the request is open, and both clicks would carry the same idempotency key.
import type { Request } from "@playwright/test";
import { expect, test } from "./fixtures";

test("double-clicking Purchase places exactly one order", async ({ page, shop }) => {
  await shop.configure({ services: { payment: { latencyMs: 600 } } });
  const product = await shop.createProduct({ stock: 10 });
  const email = shop.email("double-click");

  await page.goto("/");
  await page
    .getByRole("article", { name: product.name })
    .getByRole("button", { name: "Add to cart" })
    .click();
  await page.getByRole("link", { name: "Cart, 1 item" }).click();
  await page.getByRole("link", { name: "Checkout" }).click();
  await page.getByLabel("Name").fill("Katherine Johnson");
  await page.getByLabel("Email").fill(email);

  // Every checkout request the page sends (tRPC names the procedure in the path, batched or not).
  const checkouts: Request[] = [];
  page.on("request", (request) => {
    if (request.url().includes("order.place")) checkouts.push(request);
  });
  await page.getByRole("button", { name: /Purchase/ }).dblclick();
  await expect(page.getByRole("button", { name: "Purchasing…" })).toBeDisabled();
  await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("listitem", { name: "Confirm order" })).toHaveAttribute(
    "data-status",
    "succeeded",
  );

  // Both clicks were handled long before the first answer let the page leave the checkout, so any
  // second request has been sent by now: count the orders once every request sent is answered.
  expect(checkouts.length).toBeGreaterThan(0);
  await Promise.all(checkouts.map((request) => request.response()));
  const orders = await shop.ordersFor(email);
  expect(orders).toHaveLength(1);
  expect(page.url()).toContain(`/orders/${orders[0]?.id}`);
  expect(await shop.stockOf(product.id)).toBe(9);
});
