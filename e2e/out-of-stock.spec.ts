// Stock runs out between adding to the cart and pressing Purchase: the server refuses, the page says
// which product, and no order exists.
import { expect, screenPath, test } from "./fixtures";

test("buying the last item after someone else took it names the product and places nothing", async ({
  page,
  shop,
}) => {
  const product = await shop.createProduct({ stock: 1 });
  const email = shop.email("out-of-stock");

  await page.goto("/");
  const card = page.getByRole("article", { name: product.name });
  await expect(card.getByText("Only 1 left")).toBeVisible();
  await card.getByRole("button", { name: "Add to cart" }).click();
  await expect(card.getByRole("button", { name: "Add to cart" })).toBeDisabled();

  await page.getByRole("link", { name: "Cart, 1 item" }).click();
  await expect(page.getByLabel(`Quantity of ${product.name}`)).toHaveValue("1");
  await page.getByRole("link", { name: "Checkout" }).click();
  await page.getByLabel("Name").fill("Alan Turing");
  await page.getByLabel("Email").fill(email);

  await shop.setStock(product.id, 0);
  await page.getByRole("button", { name: /Purchase/ }).click();

  const problem = page.getByRole("alert").filter({ hasText: "Out of stock" });
  await expect(problem).toContainText(`${product.name} is out of stock`);
  await expect(problem).toContainText("Nothing was charged");
  await expect(page).toHaveURL(/\/checkout$/);
  await expect(page.getByRole("button", { name: /Purchase/ })).toBeEnabled();
  await page.screenshot({ path: screenPath("e2e-out-of-stock"), fullPage: true });

  expect(await shop.ordersFor(email)).toHaveLength(0);
  expect(await shop.stockOf(product.id)).toBe(0);
});
