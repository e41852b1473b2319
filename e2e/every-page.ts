// Every page of the app with something on it, for the checks that must hold on all of them (a phone
// viewport, accessibility): one session gets a product in its cart, a completed async order (so the
// mailbox has its receipt) and a completed sync order; then each page is listed with what proves it
// has loaded and the controls and numbers a person must be able to reach on it.
import type { Locator, Page } from "@playwright/test";
import { expect, type SeededProduct } from "./fixtures";
import { LATER, placeByApi } from "./flows";

export interface AppPage {
  name: string;
  path: string;
  /** Resolves once the page shows its real content (not a loading state). */
  ready: (page: Page) => Promise<void>;
  /** What must be visible and in reach on this page: its controls and its key numbers. */
  keys: (page: Page) => Locator[];
}

interface Seeded {
  product: SeededProduct;
  /** The async order's customer: its receipt is in the mailbox. */
  asyncEmail: string;
  /** Another session's customer: their receipt is in the mailbox too. */
  otherEmail: string;
  asyncOrderId: string;
  syncOrderId: string;
}

/** Orders of this page's session, the product in its cart, and an order of another session (its
 * receipt is in the mailbox too, named but not linked). */
export async function seedEveryPage(
  page: Page,
  shop: { email: (label: string) => string },
  product: SeededProduct,
): Promise<Seeded> {
  const otherEmail = shop.email("every-page-other");
  const other = await page.context().browser()?.newContext();
  if (!other) throw new Error("no browser to open a second session in");
  const otherPage = await other.newPage();
  await otherPage.goto("/");
  await placeByApi(otherPage, { product, email: otherEmail, mode: "sync" });
  await other.close();
  await page.goto("/");
  const asyncEmail = shop.email("every-page-async");
  const asyncOrder = await placeByApi(page, { product, email: asyncEmail, mode: "async" });
  const syncOrder = await placeByApi(page, { product, email: shop.email("every-page-sync"), mode: "sync" });
  if (!asyncOrder || !syncOrder) throw new Error("the seed orders were refused");
  await page
    .getByRole("article", { name: product.name })
    .getByRole("button", { name: "Add to cart" })
    .click();
  await expect(page.getByRole("link", { name: "Cart, 1 item" })).toBeVisible();
  return { product, asyncEmail, otherEmail, asyncOrderId: asyncOrder.id, syncOrderId: syncOrder.id };
}

const header = (page: Page): Locator[] => [
  page.getByRole("link", { name: "Shop", exact: true }),
  page.getByRole("link", { name: /^Cart, / }),
  page.getByRole("link", { name: "Orders", exact: true }),
  page.getByRole("link", { name: "Developer console", exact: true }),
  page.getByRole("radio", { name: "Sync-parallel", exact: true }),
];

export function everyPage({ product, asyncEmail, otherEmail, asyncOrderId, syncOrderId }: Seeded): AppPage[] {
  return [
    {
      name: "shop",
      path: "/",
      ready: (page) => expect(page.getByRole("article", { name: product.name })).toBeVisible(),
      keys: (page) => [
        ...header(page),
        page.getByRole("article", { name: product.name }).getByRole("button", { name: "Add to cart" }),
      ],
    },
    {
      name: "cart",
      path: "/cart",
      ready: (page) => expect(page.getByLabel(`Quantity of ${product.name}`)).toBeVisible(),
      keys: (page) => [
        page.getByLabel(`Quantity of ${product.name}`),
        page.getByRole("link", { name: "Checkout" }),
      ],
    },
    {
      name: "checkout",
      path: "/checkout",
      ready: (page) => expect(page.getByRole("button", { name: /^Purchase/ })).toBeEnabled(),
      keys: (page) => [
        page.getByLabel("Name"),
        page.getByLabel("Email"),
        page.getByRole("button", { name: /^Purchase/ }),
      ],
    },
    {
      name: "order",
      path: `/orders/${asyncOrderId}`,
      ready: (page) =>
        expect(page.getByRole("region", { name: "Order status" })).toContainText("Completed", LATER),
      keys: (page) => [
        page.getByRole("region", { name: "Timings" }).locator("[data-timing]"),
        page.getByRole("listitem", { name: "Fulfillment", exact: true }),
      ],
    },
    {
      name: "orders",
      path: "/orders",
      ready: (page) =>
        expect(
          page
            .getByRole("row", { name: `Order ${syncOrderId}` })
            .getByText("Completed")
            .filter({ visible: true }),
        ).toBeVisible(LATER),
      keys: (page) => {
        const row = page.getByRole("row", { name: `Order ${syncOrderId}` });
        return [
          row.getByRole("link", { name: syncOrderId.slice(0, 8) }),
          row.locator('[data-timing="answer"]'),
          row.locator('[data-timing="done"]'),
          page.getByRole("listitem", { name: "Sync medians" }).locator("[data-timing]"),
          page.getByRole("img", { name: /^Median time to answer/ }),
        ];
      },
    },
    {
      name: "developer console",
      path: "/dev",
      ready: (page) => expect(page.getByLabel("Shipping capacity")).toBeVisible(),
      keys: (page) => [
        page.getByRole("button", { name: "Email outage" }),
        ...["Payment", "Email", "Shipping"].flatMap((service) => [
          page.getByLabel(`${service} latency (ms)`),
          page.getByLabel(`${service} down`),
          page.getByLabel(`${service} capacity`),
        ]),
        page.getByRole("button", { name: "Pause fulfillment queue" }),
        page.getByRole("group", { name: "Default checkout mode" }),
      ],
    },
    {
      name: "rush hour",
      path: "/dev/rush",
      ready: (page) => expect(page.getByRole("button", { name: "Start" })).toBeEnabled(),
      keys: (page) => [
        page.getByRole("button", { name: "Run “Threads pile up”" }),
        page.getByRole("button", { name: "Run “Scale consumers”" }),
        page.getByLabel("Shoppers"),
        page.getByRole("button", { name: "Start" }),
        page.getByLabel("Request slots in the web tier"),
        page.getByRole("group", { name: /Consumers per queue/ }).getByLabel("Fulfillment"),
      ],
    },
    {
      name: "mailbox",
      path: "/mailbox",
      ready: (page) =>
        expect(page.getByRole("listitem", { name: `Email to ${asyncEmail}` })).toBeVisible(LATER),
      keys: (page) => {
        const receipt = page.getByRole("listitem", { name: `Email to ${asyncEmail}` });
        return [
          receipt.getByText(`Your receipt for order ${asyncOrderId.slice(0, 8)}`),
          receipt.getByRole("link", { name: `Order ${asyncOrderId.slice(0, 8)}` }),
          page.getByRole("listitem", { name: `Email to ${otherEmail}` }).getByText("from another browser"),
          page.getByLabel("Filter by address or subject"),
        ];
      },
    },
    {
      name: "not found",
      path: "/no-such-page",
      ready: (page) => expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible(),
      keys: (page) => [page.getByRole("link", { name: "Back to the shop" })],
    },
  ];
}
