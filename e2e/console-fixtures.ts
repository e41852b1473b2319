// Helpers for the developer-console stories, on top of the shared `shop` fixture: buying through the
// real UI (header mode toggle, cart, checkout form), and a `devTools` fixture that leaves the server as
// it found it: knobs back to the "All fast" preset, every queue resumed, and this test's dead letters
// discarded so no later test (or person) finds them.
import type { APIRequestContext, Page } from "@playwright/test";
import type { CheckoutMode, PresetName } from "../server/contract";
import { DEFAULT_SHOP_CAPACITY, MODES, SIDE_EFFECT_STEPS } from "../server/contract";
import { expect, type SeededProduct, test as shopTest } from "./fixtures";

interface DeadLetterRow {
  queue: (typeof SIDE_EFFECT_STEPS)[number];
  jobId: string;
  orderId: string | null;
}

async function call(request: APIRequestContext, procedure: string, data?: unknown): Promise<unknown> {
  const response =
    data === undefined
      ? await request.get(`/api/trpc/${procedure}`)
      : await request.post(`/api/trpc/${procedure}`, { data });
  expect(response.ok(), `${procedure} answered ${response.status()}: ${await response.text()}`).toBe(true);
  const body = (await response.json()) as { result?: { data?: unknown } };
  return body.result?.data;
}

class DevTools {
  private readonly orders: string[] = [];

  constructor(private readonly request: APIRequestContext) {}

  applyPreset(preset: PresetName): Promise<unknown> {
    return call(this.request, "dev.applyPreset", { preset });
  }

  /** Holds a queue's jobs (its consumers offline) until resumeQueue, or this test's end. */
  pauseQueue(queue: (typeof SIDE_EFFECT_STEPS)[number]): Promise<unknown> {
    return call(this.request, "dev.pauseQueue", { queue });
  }

  resumeQueue(queue: (typeof SIDE_EFFECT_STEPS)[number]): Promise<unknown> {
    return call(this.request, "dev.resumeQueue", { queue });
  }

  /** Buys `quantity` of a product through the shop's pages, in `mode`; returns the new order's id. */
  async buyInUI(
    page: Page,
    options: { product: SeededProduct; email: string; name?: string; mode: CheckoutMode; quantity?: number },
  ): Promise<string> {
    await page.goto("/");
    const mode = page.getByRole("radio", { name: MODES[options.mode].label, exact: true });
    await mode.check();
    const card = page.getByRole("article", { name: options.product.name });
    for (let added = 0; added < (options.quantity ?? 1); added++) {
      await card.getByRole("button", { name: "Add to cart" }).click();
    }
    await page.getByRole("link", { name: /^Cart, [1-9]/ }).click();
    await page.getByRole("link", { name: "Checkout" }).click();
    await page.getByLabel("Name").fill(options.name ?? "Ada Lovelace");
    // Exactly: the mode bar names an "Email outage" preset too.
    await page.getByLabel("Email", { exact: true }).fill(options.email);
    // Once more on this page, which is surely hydrated by now: a choice made on the shop page before
    // React took it over can be lost, and the order would go out in the previous mode.
    await mode.check();
    await expect(mode).toBeChecked();
    await page.getByRole("button", { name: /Purchase/ }).click();
    await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/, { timeout: 30_000 });
    const orderId = page.url().split("/").at(-1) ?? "";
    this.orders.push(orderId);
    return orderId;
  }

  /** Puts back what a console test may have changed. Runs before the shop fixture removes its rows. */
  async restore(): Promise<void> {
    await this.applyPreset("all-fast");
    await call(this.request, "dev.updateSettings", { defaultMode: "async", shop: DEFAULT_SHOP_CAPACITY });
    for (const queue of SIDE_EFFECT_STEPS) await call(this.request, "dev.resumeQueue", { queue });
    const letters = (await call(this.request, "dev.deadLetters")) as DeadLetterRow[];
    for (const letter of letters) {
      if (letter.orderId && this.orders.includes(letter.orderId)) {
        await call(this.request, "dev.discardDeadLetter", { queue: letter.queue, jobId: letter.jobId });
      }
    }
  }
}

export const test = shopTest.extend<{ devTools: DevTools }>({
  devTools: async ({ request, shop }, use) => {
    // `shop` first: its teardown (which waits for orders to settle) then runs after ours.
    void shop;
    const devTools = new DevTools(request);
    await use(devTools);
    await devTools.restore();
  },
});

export { screenPath } from "./fixtures";
export { expect };
