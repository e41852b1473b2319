// Every page passes axe with zero violations, on a desktop and on a phone (the phone layout folds
// tables into cards, so it is a page of its own to check). Also the two behaviours axe cannot see: an
// empty Purchase moves focus to the first field to fix and says what is missing, and an order's status
// changes are announced from a live region.
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { expect, test } from "./console-fixtures";
import { everyPage, seedEveryPage } from "./every-page";
import { fillCheckout, openShop } from "./flows";

const VIEWPORTS = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
];

/** axe's findings, one readable line per failing element. */
async function axeViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations.flatMap((violation) =>
    violation.nodes.map(
      (node) => `${violation.id}: ${node.target.join(" ")}: ${node.failureSummary?.replaceAll("\n", " ")}`,
    ),
  );
}

test("every page has zero axe violations, on a desktop and on a phone", async ({ page, devTools, shop }) => {
  test.setTimeout(120_000);
  void devTools;
  const product = await shop.createProduct({ stock: 10 });
  const pages = everyPage(await seedEveryPage(page, shop, product));

  for (const viewport of VIEWPORTS) {
    await page.setViewportSize(viewport);
    for (const appPage of pages) {
      await test.step(`${appPage.name}, ${viewport.name}`, async () => {
        await page.goto(appPage.path);
        await appPage.ready(page);
        expect(await axeViolations(page), `${appPage.name} on a ${viewport.name}`).toEqual([]);
      });
    }
  }
});

test("an empty Purchase says what is missing and moves focus to the first field to fix", async ({
  page,
  shop,
}) => {
  const product = await shop.createProduct({ stock: 5 });
  await openShop(page);
  await fillCheckout(page, { product, email: "" });
  await page.getByLabel("Name").fill("");

  const name = page.getByLabel("Name");
  const email = page.getByLabel("Email");
  await expect(name).toHaveAttribute("required");
  await expect(email).toHaveAttribute("required");
  await page.getByRole("button", { name: /^Purchase/ }).click();

  await expect(name).toBeFocused();
  await expect(name).toHaveAccessibleDescription("Name is required");
  await expect(email).toHaveAccessibleDescription("Email is required");
  await expect(name).toHaveAttribute("aria-invalid", "true");
  expect(await axeViolations(page), "the checkout showing its errors").toEqual([]);

  // With the name given, the next Purchase goes to the email.
  await name.fill("Ada Lovelace");
  await page.getByRole("button", { name: /^Purchase/ }).click();
  await expect(email).toBeFocused();
  await email.fill("not an address");
  await page.getByRole("button", { name: /^Purchase/ }).click();
  await expect(email).toHaveAccessibleDescription("Email is not a valid address");
  await expect(page).toHaveURL(/\/checkout$/);
});

test("an order's status changes are announced from a live region", async ({ page, shop, devTools }) => {
  await shop.configure({ services: { email: { latencyMs: 800 } } });
  const product = await shop.createProduct({ stock: 5 });
  // Held until the page has shown the first status, so the test never races the email's latency.
  await devTools.pauseQueue("email");
  await openShop(page);
  await fillCheckout(page, { product, email: shop.email("live-region") });
  await page.getByRole("button", { name: /^Purchase/ }).click();
  await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/);

  const announced = page.getByRole("status").filter({ hasText: "Order status:" });
  await expect(announced).toHaveText("Order status: Order placed");
  await expect(announced).toHaveAttribute("aria-atomic", "true");
  // The same element, still mounted, changes its words: that is what a screen reader announces.
  const region = await announced.elementHandle();
  await devTools.resumeQueue("email");
  await expect(announced).toHaveText("Order status: Completed", { timeout: 15_000 });
  expect(await region?.evaluate((node) => node.isConnected)).toBe(true);
});

/** Contrast of the focused element's outline against what is behind it (WCAG 2.2, 1.4.11: ≥ 3:1). */
function focusRingContrast(page: Page): Promise<number> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element) return 0;
    // "rgb(47, 93, 80)", "rgba(…, 0.45)" or "color(srgb 0.18 0.36 0.31 / 0.45)" → [r, g, b, alpha], 0–1.
    const channels = (color: string): number[] => {
      const numbers = (color.match(/[\d.]+/g) ?? []).map(Number);
      const scale = color.startsWith("color(") ? 1 : 255;
      const [r = 0, g = 0, b = 0] = numbers.map((value) => value / scale);
      const alpha = color.includes("/") || color.startsWith("rgba") ? (numbers[3] ?? 1) : 1;
      return [r, g, b, alpha];
    };
    let behind: Element | null = element.parentElement;
    while (behind && channels(getComputedStyle(behind).backgroundColor)[3] === 0)
      behind = behind.parentElement;
    const [br = 1, bg = 1, bb = 1] = channels(
      behind ? getComputedStyle(behind).backgroundColor : "rgb(255,255,255)",
    );
    const style = getComputedStyle(element);
    if (style.outlineStyle === "none" || Number.parseFloat(style.outlineWidth) < 2) return 0;
    const [r = 0, g = 0, b = 0, alpha = 1] = channels(style.outlineColor);
    const blend = (over: number, under: number) => over * alpha + under * (1 - alpha);
    const luminance = (red: number, green: number, blue: number) => {
      const linear = (c: number) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
      return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue);
    };
    const ring = luminance(blend(r, br), blend(g, bg), blend(b, bb));
    const page = luminance(br, bg, bb);
    return (Math.max(ring, page) + 0.05) / (Math.min(ring, page) + 0.05);
  });
}

test("the keyboard focus ring stands out at least 3:1 from what is around it", async ({ page, shop }) => {
  const product = await shop.createProduct({ stock: 5 });
  await openShop(page);
  await fillCheckout(page, { product, email: shop.email("focus") });
  // Moving with the keyboard, as the ring is for (:focus-visible).
  await page.getByLabel("Email").focus();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("button", { name: /^Purchase/ })).toBeFocused();
  expect(await focusRingContrast(page), "focus ring on the Purchase button").toBeGreaterThanOrEqual(3);
  await page.keyboard.press("Tab");
  await expect(page.getByRole("link", { name: "Edit cart" })).toBeFocused();
  expect(await focusRingContrast(page), "focus ring on a link").toBeGreaterThanOrEqual(3);
  await page.getByRole("link", { name: /^Cart, / }).focus();
  await page.keyboard.press("Shift+Tab");
  await expect(page.getByRole("link", { name: "Shop", exact: true })).toBeFocused();
  expect(await focusRingContrast(page), "focus ring in the header").toBeGreaterThanOrEqual(3);
});
