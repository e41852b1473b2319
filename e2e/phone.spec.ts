// Every page on a phone (390 × 844): nothing needs a sideways scroll, neither the page nor a box inside
// it, and every control and key number is on screen in full: the Developer console link, the knobs'
// Down switches, both timings of an order, a receipt's whole subject.
import type { Locator, Page } from "@playwright/test";
import { expect, test } from "./console-fixtures";
import { everyPage, seedEveryPage } from "./every-page";
import { screenPath } from "./fixtures";

const PHONE = { width: 390, height: 844 };
test.use({ viewport: PHONE });

/** Elements that scroll sideways because their content is wider than they are. */
function sidewaysScrollers(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll("body *")]
      .filter((element) => {
        const { overflowX } = getComputedStyle(element);
        return (
          (overflowX === "auto" || overflowX === "scroll") && element.scrollWidth > element.clientWidth + 1
        );
      })
      .map((element) => `${element.tagName.toLowerCase()}.${element.className}`),
  );
}

/** Visible, inside the screen's width, and not cut short (no text clipped with an ellipsis). */
async function expectInReach(target: Locator, label: string): Promise<void> {
  for (const element of await target.all()) {
    await element.scrollIntoViewIfNeeded();
    await expect(element, label).toBeVisible();
    const box = await element.boundingBox();
    expect(box, `${label}: laid out`).not.toBeNull();
    expect(box?.x ?? -1, `${label}: starts on screen`).toBeGreaterThanOrEqual(0);
    expect((box?.x ?? 0) + (box?.width ?? 0), `${label}: ends on screen`).toBeLessThanOrEqual(PHONE.width);
    const clipped = await element.evaluate((node) =>
      [node, ...node.querySelectorAll("*")].some(
        (inner) =>
          // Text cut short by overflow: hidden (an ellipsis); tiny visually hidden labels aside.
          inner.clientWidth > 8 &&
          inner.scrollWidth > inner.clientWidth + 1 &&
          getComputedStyle(inner).overflowX === "hidden",
      ),
    );
    expect(clipped, `${label}: shown in full, not cut off`).toBe(false);
  }
  expect(await target.count(), `${label}: present`).toBeGreaterThan(0);
}

test("every page fits a phone: no sideways scrolling, every control and key number in reach", async ({
  page,
  devTools,
  shop,
}) => {
  test.setTimeout(90_000);
  void devTools;
  const product = await shop.createProduct({ stock: 10 });
  const pages = everyPage(await seedEveryPage(page, shop, product));

  for (const appPage of pages) {
    await test.step(appPage.name, async () => {
      await page.goto(appPage.path);
      await appPage.ready(page);
      const width = await page.evaluate(() => document.scrollingElement?.scrollWidth ?? 0);
      expect(width, `${appPage.name}: the page is no wider than the phone`).toBeLessThanOrEqual(PHONE.width);
      expect(await sidewaysScrollers(page), `${appPage.name}: nothing scrolls sideways`).toEqual([]);
      for (const [index, key] of appPage.keys(page).entries()) {
        await expectInReach(key, `${appPage.name}, key ${index + 1}`);
      }
      await page.screenshot({
        path: screenPath(`phone-${appPage.name.replaceAll(" ", "-")}`),
        fullPage: true,
      });
    });
  }
});
