// The order page is live: in async mode the shopper lands on the order while its side effects are
// still running, and every step's progress arrives over socket.io without a reload. A reload, or a
// second tab, picks up the true current state and keeps following; another browser session cannot
// see the order at all. A fraud rejection after the order was placed shows up live as a cancellation,
// and the receipt that went out before it is corrected by a cancellation email.
// Where a test must catch the receipt before it goes out, it holds the email queue (paused) until it
// has looked, rather than racing the email's latency.
import { expect, screenPath, test } from "./console-fixtures";
import { db } from "./fixtures";
import {
  arriveAtOrder,
  expectCompleted,
  fillCheckout,
  LATER,
  openShop,
  orderStatus,
  pressPurchase,
  readStepHistory,
  recordStepHistory,
  stepRow,
} from "./flows";

const NOT_YET_SENT = /^(pending|running)$/;

test.describe("async side effects arrive live on the order page", () => {
  test("the order page shows Order placed first, then every side effect finishing, without a reload", async ({
    page,
    shop,
    devTools,
  }) => {
    await shop.configure({
      services: {
        fraud: { latencyMs: 800 },
        email: { latencyMs: 1500 },
        analytics: { latencyMs: 300 },
        shipping: { latencyMs: 800 },
      },
    });
    const product = await shop.createProduct({ stock: 5 });
    await devTools.pauseQueue("fraud");
    await devTools.pauseQueue("email");

    await openShop(page);
    await fillCheckout(page, { product, email: shop.email("live") });
    const clickedAt = await pressPurchase(page);
    const { ms } = await arriveAtOrder(page, clickedAt);
    test.info().annotations.push({ type: "click→order page (async)", description: `${ms} ms` });

    // The answer came before the side effects: placed, the receipt not sent yet.
    await expect(orderStatus(page)).toContainText("Order placed");
    await expect(stepRow(page, "Confirm order")).toHaveAttribute("data-status", "succeeded");
    await expect(stepRow(page, "Receipt email")).toHaveAttribute("data-status", NOT_YET_SENT);
    await recordStepHistory(page);
    await devTools.resumeQueue("fraud");
    await devTools.resumeQueue("email");

    await expect(stepRow(page, "Receipt email")).toHaveAttribute("data-status", "running", LATER);
    await page.screenshot({ path: screenPath("async-mid-flight"), fullPage: true });

    await expectCompleted(page);
    await expect(orderStatus(page)).toContainText("Live");

    const history = await readStepHistory(page);
    expect(history, "the page was not reloaded while the steps finished").not.toBeNull();
    // The same page showed the email waiting or running, and later sent.
    expect(history?.email?.at(-1)).toBe("succeeded");
    expect(history?.email?.slice(0, -1)).toContain("running");
    for (const step of ["fraud", "analytics", "fulfillment"] as const) {
      expect(history?.[step]?.at(-1), `${step} finished on the page`).toBe("succeeded");
    }
    // Fulfillment waits for fraud screening: it was still waiting when recording began.
    expect(history?.fulfillment?.[0]).toBe("pending");
  });

  test("a reload mid-flight shows the true current state and keeps following to Completed", async ({
    page,
    shop,
    devTools,
  }) => {
    await shop.configure({ services: { fraud: { latencyMs: 200 }, email: { latencyMs: 500 } } });
    const product = await shop.createProduct({ stock: 5 });
    await devTools.pauseQueue("email");

    await openShop(page);
    await fillCheckout(page, { product, email: shop.email("reload") });
    await arriveAtOrder(page, await pressPurchase(page));
    await expect(stepRow(page, "Fraud screening")).toHaveAttribute("data-status", "succeeded", LATER);
    await expect(stepRow(page, "Receipt email")).toHaveAttribute("data-status", NOT_YET_SENT);

    await page.reload();
    // The first thing the reloaded page shows is the snapshot: fraud done, the email still waiting.
    await expect(stepRow(page, "Receipt email")).toBeVisible();
    expect(await stepRow(page, "Receipt email").getAttribute("data-status")).toMatch(NOT_YET_SENT);
    expect(await stepRow(page, "Fraud screening").getAttribute("data-status")).toBe("succeeded");
    await expect(orderStatus(page)).toContainText("Order placed");
    await recordStepHistory(page);

    await devTools.resumeQueue("email");
    await expectCompleted(page);
    const history = await readStepHistory(page);
    expect(history, "no second reload was needed").not.toBeNull();
    expect(history?.email?.at(-1)).toBe("succeeded");
    expect(history?.email?.[0]).toMatch(NOT_YET_SENT);
  });

  test("a second tab follows the same order; another browser session cannot see it", async ({
    page,
    shop,
    browser,
    baseURL,
    devTools,
  }) => {
    await shop.configure({ services: { fraud: { latencyMs: 200 }, email: { latencyMs: 500 } } });
    const product = await shop.createProduct({ stock: 5 });
    await devTools.pauseQueue("email");

    await openShop(page);
    await fillCheckout(page, { product, email: shop.email("two-tabs") });
    const { orderId } = await arriveAtOrder(page, await pressPurchase(page));
    await expect(stepRow(page, "Fraud screening")).toHaveAttribute("data-status", "succeeded", LATER);

    const secondTab = await page.context().newPage();
    await secondTab.goto(`/orders/${orderId}`);
    await expect(secondTab.getByRole("heading", { name: "Thank you, Ada Lovelace" })).toBeVisible();
    await expect(stepRow(secondTab, "Fraud screening")).toHaveAttribute("data-status", "succeeded");
    await expect(stepRow(secondTab, "Receipt email")).toHaveAttribute("data-status", NOT_YET_SENT);
    await expect(orderStatus(secondTab)).toContainText("Order placed");
    await recordStepHistory(secondTab);

    const stranger = await browser.newContext({ baseURL });
    try {
      const strangerPage = await stranger.newPage();
      await strangerPage.goto(`/orders/${orderId}`);
      await expect(strangerPage.getByRole("heading", { name: "Order not found" })).toBeVisible();
      await expect(strangerPage.getByText("Ada Lovelace")).toHaveCount(0);
      const answer = await strangerPage.request.get(
        `/api/trpc/order.byId?input=${encodeURIComponent(JSON.stringify({ orderId }))}`,
      );
      expect(answer.status()).toBe(404);
      expect(await answer.text()).not.toContain(product.name);
    } finally {
      await stranger.close();
    }

    await devTools.resumeQueue("email");
    await expectCompleted(secondTab);
    await expectCompleted(page);
    expect((await readStepHistory(secondTab))?.email?.at(-1)).toBe("succeeded");
  });

  test("fraud screening rejects a placed order: cancelled live, authorization voided, stock released", async ({
    page,
    shop,
    devTools,
  }) => {
    await shop.configure({ services: { fraud: { latencyMs: 800 } } });
    const product = await shop.createProduct({ stock: 5 });
    await devTools.pauseQueue("fraud");
    const email = shop.email("fraud");
    expect(email).toContain("fraud");

    await openShop(page);
    await fillCheckout(page, { product, email, name: "Mallory Mallet" });
    await arriveAtOrder(page, await pressPurchase(page));
    await expect(orderStatus(page)).toContainText("Order placed");
    expect(await shop.stockOf(product.id)).toBe(4);
    await recordStepHistory(page);
    await devTools.resumeQueue("fraud");

    await expect(orderStatus(page)).toContainText("Cancelled", LATER);
    await expect(page.getByRole("heading", { name: "This order was cancelled" })).toBeVisible();
    await expect(page.getByRole("alert").filter({ hasText: "What went wrong" })).toContainText(
      "Fraud screening rejected the order: the email address is on a watch list",
    );
    await expect(stepRow(page, "Authorize payment")).toHaveAttribute("data-status", "compensated");
    await expect(stepRow(page, "Authorize payment")).toContainText("Authorization voided");
    await expect(stepRow(page, "Reserve stock")).toHaveAttribute("data-status", "compensated");
    await expect(stepRow(page, "Reserve stock")).toContainText("Stock released");
    await expect(stepRow(page, "Fulfillment")).toHaveAttribute("data-status", "skipped");
    await expect(stepRow(page, "Fulfillment")).toContainText("Skipped");
    await expect(stepRow(page, "Fraud screening")).toHaveAttribute("data-status", "rejected");
    await expect(stepRow(page, "Fraud screening")).toContainText("Fraud screening rejected the order");
    await page.screenshot({ path: screenPath("order-cancelled-fraud"), fullPage: true });

    // The receipt went out before the rejection; the correction follows live, at its own time.
    await expect(stepRow(page, "Receipt email")).toHaveAttribute("data-status", "succeeded");
    await expect(stepRow(page, "Cancellation email")).toHaveAttribute("data-status", "succeeded", LATER);
    await expect(stepRow(page, "Cancellation email")).toContainText(`Cancellation sent to ${email}`);
    await expect(stepRow(page, "Sale reversal")).toHaveAttribute("data-status", "succeeded", LATER);
    await expect(
      page.getByText(
        "The receipt went out before fraud screening rejected the order; the cancellation email corrects it",
      ),
    ).toBeVisible();

    expect(await readStepHistory(page), "cancelled without a reload").not.toBeNull();
    await expect.poll(() => shop.stockOf(product.id)).toBe(5);
    expect(await shop.ordersFor(email)).toEqual([expect.objectContaining({ status: "cancelled" })]);

    // The mailbox holds the receipt and, newest first, the cancellation that corrects it.
    await page.goto("/mailbox");
    const mail = page.getByRole("listitem", { name: `Email to ${email}` });
    await expect(mail).toHaveCount(2);
    await expect(mail.first()).toContainText("was cancelled");
    await expect(mail.last()).toContainText("Your receipt for order");
  });

  test("a change the page was never pushed shows all the same, while the order is moving", async ({
    page,
    shop,
    devTools,
  }) => {
    const product = await shop.createProduct({ stock: 5 });
    // Held: the order stays placed, its page connected and watching.
    await devTools.pauseQueue("fraud");
    await devTools.pauseQueue("email");
    await openShop(page);
    await fillCheckout(page, { product, email: shop.email("resync") });
    const { orderId } = await arriveAtOrder(page, await pressPurchase(page));
    await expect(stepRow(page, "Receipt email")).toHaveAttribute("data-status", NOT_YET_SENT);

    // A change written past the feed, as when a push is lost between the web processes (their Redis
    // restarting) while this page's own connection stays up: nobody tells the page.
    const prisma = await db();
    await prisma.$executeRaw`UPDATE "Order" SET "version" = "version" + 1,
      "steps" = jsonb_set("steps", '{email,detail}', '"Written past the feed"')
      WHERE "id" = ${orderId}`;
    await expect(stepRow(page, "Receipt email")).toContainText("Written past the feed", { timeout: 20_000 });

    await devTools.resumeQueue("fraud");
    await devTools.resumeQueue("email");
    await expectCompleted(page);
  });
});
