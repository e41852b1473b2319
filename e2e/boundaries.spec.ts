// Where the developer pages meet the shop: the mailbox lists every session's mail but links (and
// prefetches) only this session's orders; the shop says so when nothing is slow (then every mode
// looks alike); and the developer pages' styles, once in the document after a visit to /dev, change
// nothing on a shop page.
import type { Page, Request } from "@playwright/test";
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
  const inFlight = new Set<Request>();
  page.on("request", (request) => {
    asked.push(request.url());
    inFlight.add(request);
  });
  page.on("requestfinished", (request) => inFlight.delete(request));
  page.on("requestfailed", (request) => inFlight.delete(request));
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
  // What the hover set off (a prefetch would be sent from its handler) has run once the browser is
  // idle; then every request sent so far is answered before the count.
  await page.evaluate(() => new Promise((resolve) => requestIdleCallback(resolve)));
  await Promise.all([...inFlight].map((request) => request.response()));
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

/** How every element on the page looks: enough of its computed style that any rule applying to it shows. */
async function looks(page: Page): Promise<string[]> {
  // Nothing hovered, transitions over: the same page must compute the same style twice. A frame
  // after the move the un-hover transitions have started; wait for each one that ends to end.
  await page.mouse.move(0, 0);
  await page.evaluate(async () => {
    await new Promise(requestAnimationFrame);
    const ending = document
      .getAnimations()
      .filter((animation) => animation.effect?.getComputedTiming().endTime !== Number.POSITIVE_INFINITY);
    await Promise.all(ending.map((animation) => animation.finished.catch(() => undefined)));
  });
  return page.evaluate(() => {
    const properties = [
      "display",
      "position",
      "color",
      "background-color",
      "font-family",
      "font-size",
      "font-weight",
      "margin",
      "padding",
      "border",
      "border-radius",
      "box-shadow",
      "gap",
      "grid-template-columns",
      "white-space",
    ];
    return [...document.querySelectorAll("body *")].map((element) => {
      const style = getComputedStyle(element);
      return `${element.tagName.toLowerCase()} ${properties.map((name) => style.getPropertyValue(name)).join(" | ")}`;
    });
  });
}

test("a visit to the developer pages restyles nothing on a shop page", async ({ page, shop }) => {
  const product = await shop.createProduct({ stock: 5 });
  await page.goto("/");
  await fillCheckout(page, { product, email: shop.email("styles") });
  const shopPages = {
    "/": () => expect(page.getByRole("article", { name: product.name })).toBeVisible(),
    "/cart": () => expect(page.getByRole("link", { name: "Checkout" })).toBeVisible(),
    "/checkout": () => expect(page.getByRole("button", { name: /^Purchase/ })).toBeEnabled(),
  };
  const before = new Map<string, string[]>();
  for (const [path, ready] of Object.entries(shopPages)) {
    await page.goto(path);
    await ready();
    before.set(path, await looks(page));
  }

  // A visit to /dev brings the developer pages' styles into the document for the rest of the visit
  // (client-side navigation keeps them); back on the shop, every element must look as before.
  await page.getByRole("link", { name: "Developer console", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Developer console" })).toBeVisible(LATER);
  await page.getByRole("link", { name: "Shop", exact: true }).click();
  await shopPages["/"]();
  expect(await looks(page), "/ after /dev").toEqual(before.get("/"));
  await page.getByRole("link", { name: "Cart, 1 item" }).click();
  await shopPages["/cart"]();
  expect(await looks(page), "/cart after /dev").toEqual(before.get("/cart"));
  await page.getByRole("link", { name: "Checkout" }).click();
  await shopPages["/checkout"]();
  expect(await looks(page), "/checkout after /dev").toEqual(before.get("/checkout"));
});
