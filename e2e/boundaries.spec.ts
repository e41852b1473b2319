// Where the developer pages meet the shop: the mailbox lists every session's mail but links (and
// prefetches) only this session's orders; the shop says so when nothing is slow (then every mode
// looks alike); and the developer pages' stylesheet neither loads on a shop page nor, once loaded by a
// visit to /dev, styles anything on one.
import type { Page } from "@playwright/test";
import { expect, test } from "./console-fixtures";
import { fillCheckout, LATER, placeByApi } from "./flows";

test("the mailbox links this session's orders only, and never asks for another session's", async ({
  page,
  browser,
  devTools,
  shop,
}) => {
  void devTools;
  const product = await shop.createProduct({ stock: 5 });
  const mineEmail = shop.email("mailbox-mine");
  const theirsEmail = shop.email("mailbox-theirs");

  // Another browser (its own cookies, so its own session) buys first.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await otherPage.goto("/");
  const theirs = await placeByApi(otherPage, { product, email: theirsEmail, mode: "sync" });
  await other.close();
  await page.goto("/");
  const mine = await placeByApi(page, { product, email: mineEmail, mode: "sync" });
  if (!theirs || !mine) throw new Error("the orders were refused");

  const asked: string[] = [];
  page.on("request", (request) => asked.push(request.url()));
  await page.goto("/mailbox");
  const myReceipt = page.getByRole("listitem", { name: `Email to ${mineEmail}` });
  const theirReceipt = page.getByRole("listitem", { name: `Email to ${theirsEmail}` });
  await expect(myReceipt.getByRole("link", { name: `Order ${mine.id.slice(0, 8)}` })).toHaveAttribute(
    "href",
    `/orders/${mine.id}`,
  );
  await expect(theirReceipt).toContainText(`Order ${theirs.id.slice(0, 8)} · from another browser`);
  await expect(theirReceipt.getByRole("link", { name: /^Order / })).toHaveCount(0);
  await expect(page.locator(`a[href*="${theirs.id}"]`)).toHaveCount(0);
  await myReceipt.hover();
  await page.waitForTimeout(500);
  expect(asked.filter((url) => url.includes(theirs.id))).toEqual([]);
});

test("the shop says when nothing is slow, and stops saying it once something is", async ({
  page,
  devTools,
}) => {
  // The shop fixture made every service instant.
  const note = page.getByText("Right now every service answers instantly and nothing fails");
  for (const path of ["/", "/cart", "/orders"]) {
    await page.goto(path);
    await expect(note, path).toBeVisible();
  }
  await expect(page.getByRole("link", { name: "Pick a slower scenario" })).toHaveAttribute("href", "/dev");

  await devTools.applyPreset("realistic");
  await page.goto("/");
  await expect(page.getByRole("radio", { name: "Async", exact: true })).toBeChecked();
  await expect(note).toHaveCount(0);
});

/** Rules of the developer pages' stylesheet (every one of them sits under .console) that are in the
 * document, loaded or preloaded, and how many elements of the page they match. */
function consoleRules(page: Page): Promise<{ loaded: number; preloaded: number; matching: string[] }> {
  return page.evaluate(async () => {
    const isConsole = (text: string) => text.includes(".console .console-head");
    let loaded = 0;
    const matching: string[] = [];
    for (const sheet of document.styleSheets) {
      const rules = [...sheet.cssRules];
      if (!isConsole(rules.map((rule) => rule.cssText).join("\n"))) continue;
      loaded++;
      const styleRules = rules.flatMap((rule) =>
        rule instanceof CSSMediaRule ? [...rule.cssRules] : [rule],
      ) as CSSStyleRule[];
      for (const rule of styleRules) {
        if (rule.selectorText && document.querySelector(rule.selectorText)) matching.push(rule.selectorText);
      }
    }
    let preloaded = 0;
    for (const link of document.querySelectorAll<HTMLLinkElement>('link[rel="preload"][as="style"]')) {
      if (isConsole(await (await fetch(link.href)).text())) preloaded++;
    }
    return { loaded, preloaded, matching };
  });
}

test("the developer pages' stylesheet stays off the shop pages", async ({ page, shop }) => {
  const product = await shop.createProduct({ stock: 5 });
  await page.goto("/");
  await fillCheckout(page, { product, email: shop.email("styles") });
  for (const path of ["/", "/cart", "/checkout"]) {
    await page.goto(path);
    await page.waitForLoadState("networkidle");
    expect(await consoleRules(page), `${path}, loaded directly`).toEqual({
      loaded: 0,
      preloaded: 0,
      matching: [],
    });
  }

  // A visit to /dev loads it for the rest of the visit; back on the shop it must touch nothing.
  await page.getByRole("link", { name: "Developer console", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Developer console" })).toBeVisible(LATER);
  expect((await consoleRules(page)).loaded).toBe(1);
  await page.getByRole("link", { name: "Shop", exact: true }).click();
  await expect(page.getByRole("article", { name: product.name })).toBeVisible();
  expect((await consoleRules(page)).matching, "console rules matching a shop page").toEqual([]);
});
