// Shopper flows shared by the live-timeline and checkout-mode stories: pick a mode in the header, put a
// product in the cart, fill the checkout form, press Purchase and time the way to the order page; plus
// readers for what the order page shows (its step rows, the order view over HTTP with the page's
// cookies) and a recorder of every status a step row went through without a reload.
import type { Page } from "@playwright/test";
import {
  type CheckoutMode,
  MODES,
  type OrderView,
  PLANNED_STEPS,
  STEPS,
  type StepName,
} from "../server/contract";
import { expect, type SeededProduct } from "./fixtures";

export { MODES };

/** Where the header toggle keeps the shopper's choice (app/_lib/mode.ts). */
const MODE_STORAGE_KEY = "slow-morning:checkout-mode";

/** Side effects run on the worker (or inline); allow for a busy machine. */
export const LATER = { timeout: 15_000 };

export const ORDER_URL = /\/orders\/[0-9a-f-]{36}$/;

/** Opens the shop in a fresh browser context: no mode remembered yet, so the toggle says Async. */
export async function openShop(page: Page): Promise<void> {
  await page.goto("/");
  expect(
    await page.evaluate((key) => window.localStorage.getItem(key), MODE_STORAGE_KEY),
    "each test starts in a fresh context, with no checkout mode remembered",
  ).toBeNull();
  await expect(page.getByRole("radio", { name: "Async", exact: true })).toBeChecked();
}

/** Chooses a checkout mode in the header toggle. */
export async function chooseMode(page: Page, mode: CheckoutMode): Promise<void> {
  const radio = page.getByRole("radio", { name: MODES[mode].label, exact: true });
  await radio.check();
  await expect(radio).toBeChecked();
}

/** From the catalog: one of `product` into the cart, on to the checkout, the form filled in. */
export async function fillCheckout(
  page: Page,
  options: { product: SeededProduct; email: string; name?: string },
): Promise<void> {
  if (!page.url().endsWith("/")) await page.goto("/");
  await page
    .getByRole("article", { name: options.product.name })
    .getByRole("button", { name: "Add to cart" })
    .click();
  await page.getByRole("link", { name: "Cart, 1 item" }).click();
  await page.getByRole("link", { name: "Checkout" }).click();
  await page.getByLabel("Name").fill(options.name ?? "Ada Lovelace");
  // Exactly: the mode bar names an "Email outage" preset too.
  await page.getByLabel("Email", { exact: true }).fill(options.email);
}

/** Presses Purchase. */
export async function pressPurchase(page: Page): Promise<number> {
  const clickedAt = Date.now();
  await page.getByRole("button", { name: /^Purchase/ }).click();
  return clickedAt;
}

/** Waits for the order page after a Purchase pressed at `clickedAt`: the order id and click → page ms. */
export async function arriveAtOrder(page: Page, clickedAt: number): Promise<{ orderId: string; ms: number }> {
  await page.waitForURL(ORDER_URL, { timeout: 30_000, waitUntil: "commit" });
  const ms = Date.now() - clickedAt;
  const orderId = new URL(page.url()).pathname.split("/").at(-1) ?? "";
  return { orderId, ms };
}

/** The order page's row for a step, by the label the shopper reads ("Receipt email"). */
export function stepRow(page: Page, label: string) {
  return page.getByRole("listitem", { name: label, exact: true });
}

export function orderStatus(page: Page) {
  return page.getByRole("region", { name: "Order status" });
}

/** A completed order's rows: every planned step (compensations appear only on an undone order). */
const STEP_LABELS = PLANNED_STEPS.map((name) => STEPS[name].label);

/** Every step row on the order page has reached "succeeded" and the order says Completed. */
export async function expectCompleted(page: Page): Promise<void> {
  for (const label of STEP_LABELS) {
    await expect(stepRow(page, label)).toHaveAttribute("data-status", "succeeded", LATER);
  }
  await expect(orderStatus(page)).toContainText("Completed", LATER);
}

/** order.byId over HTTP with the page's own cookies (the order belongs to the page's session). */
export async function fetchOrder(page: Page, orderId: string): Promise<OrderView> {
  const response = await page.request.get(
    `/api/trpc/order.byId?input=${encodeURIComponent(JSON.stringify({ orderId }))}`,
  );
  expect(response.ok(), `order.byId answered ${response.status()}: ${await response.text()}`).toBe(true);
  const body = (await response.json()) as { result: { data: OrderView } };
  return body.result.data;
}

export type StepHistory = Partial<Record<StepName, string[]>>;

/**
 * Starts recording, inside the page, every data-status each order-page step row takes, and plants a
 * marker that a reload would wipe out. `readStepHistory` returns the statuses in the order they were
 * shown, or null when the page was reloaded (or navigated away) since.
 */
export async function recordStepHistory(page: Page): Promise<void> {
  await expect(stepRow(page, "Receipt email")).toBeVisible();
  await page.evaluate(() => {
    const history: Record<string, string[]> = {};
    const note = (row: Element) => {
      const step = row.getAttribute("data-step");
      const status = row.getAttribute("data-status");
      if (!step || !status) return;
      const seen = history[step] ?? [];
      if (seen.at(-1) !== status) seen.push(status);
      history[step] = seen;
    };
    for (const row of document.querySelectorAll("li[data-step]")) note(row);
    const observer = new MutationObserver((mutations) => {
      for (const mutation of mutations) {
        const target = mutation.target as Element;
        if (mutation.type === "attributes" && target.matches("li[data-step]")) note(target);
        for (const added of mutation.addedNodes) {
          if (added instanceof Element) for (const row of added.querySelectorAll("li[data-step]")) note(row);
        }
      }
    });
    observer.observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ["data-status"],
    });
    (window as unknown as { __stepHistory: Record<string, string[]> }).__stepHistory = history;
  });
}

export async function readStepHistory(page: Page): Promise<StepHistory | null> {
  return page.evaluate(
    () => (window as unknown as { __stepHistory?: Record<string, string[]> }).__stepHistory ?? null,
  );
}

/** order.place over HTTP with the page's own cookies: the order belongs to the page's session, as if
 * bought through the UI, without walking through the pages. Returns the order, or null when the
 * checkout was refused (a synchronous checkout whose side effect broke). */
export async function placeByApi(
  page: Page,
  options: { product: SeededProduct; email: string; mode: CheckoutMode; name?: string },
): Promise<OrderView | null> {
  const response = await page.request.post("/api/trpc/order.place", {
    data: {
      items: [{ productId: options.product.id, quantity: 1 }],
      customer: { name: options.name ?? "Ada Lovelace", email: options.email },
      idempotencyKey: crypto.randomUUID(),
      mode: options.mode,
    },
  });
  if (!response.ok()) return null;
  const body = (await response.json()) as { result: { data: OrderView } };
  return body.result.data;
}
