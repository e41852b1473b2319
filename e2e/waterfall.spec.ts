// The waterfall draws every moment that teaches: a receipt email that fails once and recovers shows
// two runs with the backoff between them; a fraud-cancelled order shows its compensation after the
// original bars, when it happened; every settled order says what the other mode would have cost; and
// the mode bar names the fault preset the shop runs under. Where a test must look at a step between two
// attempts, it holds the queue rather than racing the backoff.
import AxeBuilder from "@axe-core/playwright";
import type { Locator, Page } from "@playwright/test";
import { expect, screenPath, test } from "./console-fixtures";
import {
  arriveAtOrder,
  expectCompleted,
  fetchOrder,
  fillCheckout,
  LATER,
  openShop,
  pressPurchase,
  stepRow,
} from "./flows";

const segments = (row: Locator, kind: string) => row.locator(`[data-segment="${kind}"]`);

/** axe's findings and any sideways scrolling, on a desktop and on a phone, the table open. */
async function expectAccessibleEverywhere(page: Page): Promise<void> {
  for (const viewport of [
    { width: 1280, height: 800 },
    { width: 390, height: 844 },
  ]) {
    await page.setViewportSize(viewport);
    const { violations } = await new AxeBuilder({ page }).analyze();
    expect(
      violations.flatMap((violation) =>
        violation.nodes.map((node) => `${violation.id}: ${node.target.join(" ")}`),
      ),
      `axe at ${viewport.width} px`,
    ).toEqual([]);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `sideways scrolling at ${viewport.width} px`).toBeLessThanOrEqual(0);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** The min-width of a run's bar (`.segment[data-segment="running"]` in Waterfall.module.css). */
const MIN_RUN_PX = 3;

async function box(locator: Locator) {
  const found = await locator.boundingBox();
  if (!found) throw new Error("not drawn");
  return found;
}

test.describe("the order waterfall", () => {
  test("an email failing once then recovering: two runs, the backoff between them, and the sync counterfactual", async ({
    page,
    shop,
    devTools,
  }) => {
    // The first attempt fails after its 1.5 s; the email queue is held from while it runs until the
    // page has been looked at, so the retry waits in its backoff however slow the page is (the 1 s
    // backoff alone is no time to look and then fix the provider).
    await shop.configure({
      services: { fraud: { latencyMs: 200 }, email: { latencyMs: 1500, failureRate: 1 } },
    });
    const product = await shop.createProduct({ stock: 5 });
    await devTools.pauseQueue("email");

    await openShop(page);
    await fillCheckout(page, { product, email: shop.email("flaky-email") });
    const { orderId } = await arriveAtOrder(page, await pressPurchase(page));
    await devTools.resumeQueue("email");
    const emailStatus = async () =>
      (await fetchOrder(page, orderId)).steps.find((step) => step.name === "email")?.status;
    await expect.poll(emailStatus, LATER).toBe("running");
    await devTools.pauseQueue("email");
    const email = stepRow(page, "Receipt email");
    // The first attempt failed: the step waits out its backoff, drawn as it happens.
    await expect(email).toHaveAttribute("data-status", "retrying", LATER);
    await expect(segments(email, "running")).toHaveCount(1);
    await expect(segments(email, "backoff")).toHaveCount(1);
    await shop.configure({ services: { email: { latencyMs: 300, failureRate: 0 } } });
    await devTools.resumeQueue("email");

    await expectCompleted(page);
    await expect(email).toHaveAttribute("data-status", "succeeded");
    await expect(email).toContainText("2 attempts");
    const runs = segments(email, "running");
    await expect(runs).toHaveCount(2);
    await expect(segments(email, "backoff")).toHaveCount(1);
    // Left to right: the failed run, the backoff, the run that sent the receipt.
    const [failed, backoff, sent] = [
      await box(runs.first()),
      await box(segments(email, "backoff")),
      await box(runs.last()),
    ];
    // A run is drawn at least MIN_RUN_PX wide so a 5 ms failure stays visible; drawn at that minimum,
    // its bar may reach past where the run ended, so only where it starts says where it ended.
    const failedEnd = failed.width <= MIN_RUN_PX + 0.5 ? failed.x : failed.x + failed.width;
    expect(backoff.x).toBeGreaterThanOrEqual(failedEnd - 1);
    expect(sent.x).toBeGreaterThanOrEqual(backoff.x + backoff.width - 1);
    await expect(runs.first()).toHaveAttribute("data-tone", "failed");
    await expect(runs.last()).toHaveAttribute("data-tone", "succeeded");
    // A step that ran once is one run.
    await expect(segments(stepRow(page, "Analytics"), "running")).toHaveCount(1);

    await expect(page.getByTestId("counterfactual")).toContainText(/In sync mode you would have waited ≈ \d/);

    // The same in words, for anyone who cannot see the bars.
    await page.getByText("The same timeline as a table").click();
    const table = page.getByRole("table");
    await expect(table.getByRole("row", { name: /Attempt 1: ran, failed/ })).toBeVisible();
    await expect(table.getByRole("row", { name: /^Backoff/ })).toBeVisible();
    await expect(table.getByRole("row", { name: /Attempt 2: ran, done/ }).first()).toBeVisible();
    await page.screenshot({ path: screenPath("waterfall-email-retried"), fullPage: true });
    await expectAccessibleEverywhere(page);
  });

  test("a fraud-cancelled order: the compensation is drawn after the original bars, at its own time", async ({
    page,
    shop,
  }) => {
    await shop.configure({ services: { fraud: { latencyMs: 600 } } });
    const product = await shop.createProduct({ stock: 5 });

    await openShop(page);
    await fillCheckout(page, { product, email: shop.email("fraud"), name: "Mallory Mallet" });
    await arriveAtOrder(page, await pressPurchase(page));
    await expect(stepRow(page, "Authorize payment")).toHaveAttribute("data-status", "compensated", LATER);

    for (const label of ["Reserve stock", "Authorize payment"]) {
      const row = stepRow(page, label);
      await expect(segments(row, "compensation")).toHaveCount(1);
      const ran = await box(segments(row, "running"));
      const undone = await box(segments(row, "compensation"));
      // The dot's centre sits at the compensation's time: after the step's own run ended.
      expect(undone.x + undone.width / 2, `${label}: compensated after it ran`).toBeGreaterThan(
        ran.x + ran.width,
      );
    }
    await expect(stepRow(page, "Authorize payment")).toContainText(/Authorization voided at \d/);
    // Fraud screening's verdict came first; the compensation follows it.
    const verdict = await box(segments(stepRow(page, "Fraud screening"), "running"));
    const voided = await box(segments(stepRow(page, "Authorize payment"), "compensation"));
    expect(voided.x + voided.width / 2).toBeGreaterThanOrEqual(verdict.x + verdict.width - 1);
    await expect(page.getByTestId("counterfactual")).toBeVisible(LATER);
    await page.screenshot({ path: screenPath("waterfall-fraud-compensation"), fullPage: true });
    await page.getByText("The same timeline as a table").click();
    await expect(page.getByRole("table").getByRole("row", { name: /Compensated/ })).toHaveCount(2);
    await expectAccessibleEverywhere(page);
  });

  test("the mode bar names the active fault preset, and says so when every service is healthy", async ({
    page,
    request,
    shop,
  }) => {
    // The fixture starts from every knob at 0.
    await page.goto("/");
    await expect(page.getByRole("link", { name: /All services healthy/ })).toBeVisible();

    const applied = await request.post("/api/trpc/dev.applyPreset", { data: { preset: "email-outage" } });
    expect(applied.ok()).toBe(true);
    await page.reload();
    await expect(page.getByRole("link", { name: /Preset: Email outage/ })).toBeVisible();

    await shop.configure({ services: { email: { down: false, latencyMs: 4321 } } });
    await page.reload();
    await expect(page.getByRole("link", { name: /Custom fault knobs/ })).toBeVisible();
  });
});
