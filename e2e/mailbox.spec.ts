// The mailbox shows what the simulated email provider sent: after an async purchase completes, one
// receipt for the customer's address, with the order's lines and total in its text.
import { expect, screenPath, test } from "./console-fixtures";

test("a completed async purchase leaves exactly one receipt in the mailbox", async ({
  page,
  devTools,
  shop,
}) => {
  const product = await shop.createProduct({ stock: 5, priceCents: 1250 });
  const email = shop.email("mailbox");

  const orderId = await devTools.buyInUI(page, {
    product,
    email,
    name: "Mary Jackson",
    mode: "async",
    quantity: 2,
  });
  await expect(page.getByRole("region", { name: "Order status" })).toContainText("Completed", {
    timeout: 15_000,
  });

  await page.goto("/mailbox");
  const receipts = page.getByRole("listitem", { name: `Email to ${email}` });
  await expect(receipts).toHaveCount(1);
  const receipt = receipts.first();
  await expect(receipt).toContainText(`Your receipt for order ${orderId.slice(0, 8)}`);
  await expect(receipt.getByRole("link", { name: `Order ${orderId.slice(0, 8)}` })).toHaveAttribute(
    "href",
    `/orders/${orderId}`,
  );

  const toggle = receipt.getByRole("button", { name: /Your receipt/ });
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-expanded", "true");
  const text = receipt.locator("pre");
  await expect(text).toContainText("Hi Mary Jackson,");
  await expect(text).toContainText(`2 × ${product.name}`);
  await expect(text).toContainText("Total $25.00");

  await page.getByLabel("Filter by address or subject").fill(email);
  await expect(page.getByRole("listitem", { name: /^Email to / })).toHaveCount(1);
  await page.screenshot({ path: screenPath("mailbox"), fullPage: true });
});
