// What every browser test stands on: a `shop` fixture that seeds the rows a test needs straight into
// the test database (unique product ids and customer emails, so tests never collide with each other
// or with the seeded catalog), turns the simulated downstream services fast through the same
// dev.updateSettings endpoint the developer console uses, and removes its rows afterwards.
import { randomUUID } from "node:crypto";
import { type APIRequestContext, test as base, expect } from "@playwright/test";
import { SERVICE_NAMES, type SettingsPatch } from "../server/contract";
import { e2eShopHere } from "../test/stores";

// The database of this worker's shop (see playwright.config.ts). Set before the Prisma client is first
// imported, because server/config.ts reads the environment once.
process.env.DATABASE_URL = e2eShopHere.databaseUrl;

export async function db() {
  return (await import("../server/db")).prisma;
}

export interface SeededProduct {
  id: string;
  name: string;
  priceCents: number;
  stock: number;
}

/** Every downstream instant and healthy; a test adds the latency or faults it is about. */
export const FAST_SERVICES: SettingsPatch = {
  services: Object.fromEntries(
    SERVICE_NAMES.map((name) => [name, { latencyMs: 0, jitterMs: 0, failureRate: 0, down: false }]),
  ),
};

export async function updateSettings(request: APIRequestContext, patch: SettingsPatch): Promise<void> {
  const response = await request.post("/api/trpc/dev.updateSettings", { data: patch });
  expect(response.ok(), `dev.updateSettings answered ${response.status()}: ${await response.text()}`).toBe(
    true,
  );
}

const SETTLE_TIMEOUT_MS = 15_000;

class Shop {
  private readonly products: string[] = [];
  private readonly suffix = randomUUID().slice(0, 8);

  constructor(private readonly request: APIRequestContext) {}

  /** A customer email nobody else uses, so a test can count exactly its own orders. */
  email(label: string): string {
    return `${label}-${this.suffix}@e2e.example.com`;
  }

  async createProduct(
    options: { name?: string; stock?: number; priceCents?: number } = {},
  ): Promise<SeededProduct> {
    const prisma = await db();
    const id = `e2e_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const product = await prisma.product.create({
      data: {
        id,
        slug: id.replaceAll("_", "-"),
        name: options.name ?? `Test Mug ${id.slice(4, 10)}`,
        description: "A product seeded by a browser test.",
        priceCents: options.priceCents ?? 1850,
        stock: options.stock ?? 10,
        artHue: 205,
        artMotif: "mug",
      },
      select: { id: true, name: true, priceCents: true, stock: true },
    });
    this.products.push(product.id);
    return product;
  }

  async setStock(productId: string, stock: number): Promise<void> {
    await (await db()).product.update({ where: { id: productId }, data: { stock } });
  }

  async stockOf(productId: string): Promise<number> {
    const product = await (await db()).product.findUniqueOrThrow({ where: { id: productId } });
    return product.stock;
  }

  async ordersFor(email: string) {
    return (await db()).order.findMany({
      where: { customerEmail: email },
      select: { id: true, status: true, totalCents: true },
    });
  }

  configure(patch: SettingsPatch): Promise<void> {
    return updateSettings(this.request, patch);
  }

  /** Removes this test's products and their orders, once no side effect of theirs is still running. */
  async cleanUp(): Promise<void> {
    if (this.products.length === 0) return;
    const prisma = await db();
    const ofThisTest = { items: { some: { productId: { in: this.products } } } };
    try {
      await expect
        .poll(() => prisma.order.count({ where: { ...ofThisTest, settledAt: null } }), {
          message: "this test's orders have settled",
          timeout: SETTLE_TIMEOUT_MS,
          intervals: [200],
        })
        .toBe(0);
    } finally {
      await prisma.order.deleteMany({ where: ofThisTest });
      await prisma.product.deleteMany({ where: { id: { in: this.products } } });
    }
  }
}

export const test = base.extend<{ shop: Shop; contentSecurityPolicyKept: undefined }>({
  // Every story also proves its pages run under their Content Security Policy: Chromium reports each
  // script, style or connection the policy blocked as a console error.
  contentSecurityPolicyKept: [
    async ({ page }, use) => {
      const violations: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error" && message.text().includes("Content Security Policy")) {
          violations.push(message.text());
        }
      });
      await use(undefined);
      expect(violations, "what the Content Security Policy blocked").toEqual([]);
    },
    { auto: true },
  ],
  shop: async ({ request }, use) => {
    await updateSettings(request, FAST_SERVICES);
    const shop = new Shop(request);
    await use(shop);
    await shop.cleanUp();
    await updateSettings(request, FAST_SERVICES);
  },
});

export { expect };

/** Screenshots for people to look at (gitignored). */
export function screenPath(name: string): string {
  return `artifacts/screens/${name}.png`;
}
