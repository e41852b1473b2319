// The shop's catalog: a small store for slow mornings (coffee, tea, cups, and desk things).
// Re-runnable: products are upserted by id; text, price and art are refreshed, stock is kept unless
// run with `--restock`, so seeding never undoes what checkouts sold. Tests import `catalog`.
//
// Product art is drawn locally (no remote images): `artHue` (0-359) tints a simple SVG chosen by
// `artMotif`, one of `artMotifs` below. The hues stay in three families so the grid looks calm:
// terracotta/ochre (15-45), sage/olive (85-150) and slate blue (195-220).
//
// Usage: `npm run db:seed` or `npx tsx prisma/seed.ts --restock`.
import { existsSync, realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";

export const artMotifs = [
  "mug",
  "cup",
  "bag",
  "box",
  "bottle",
  "notebook",
  "pen",
  "candle",
  "lamp",
  "plant",
] as const;

export type ArtMotif = (typeof artMotifs)[number];

export interface CatalogProduct {
  id: string;
  slug: string;
  name: string;
  description: string;
  priceCents: number;
  stock: number;
  artHue: number;
  artMotif: ArtMotif;
}

const products: Omit<CatalogProduct, "id">[] = [
  {
    slug: "stoneware-mug",
    name: "Stoneware Mug",
    description:
      "A hand-thrown 350 ml mug with a matte glaze outside and a glossy one inside. Sits well in both hands.",
    priceCents: 2400,
    stock: 36,
    artHue: 18,
    artMotif: "mug",
  },
  {
    slug: "espresso-cup-pair",
    name: "Espresso Cup Pair",
    description: "Two thick-walled porcelain cups that keep a doppio warm to the last sip.",
    priceCents: 2800,
    stock: 24,
    artHue: 205,
    artMotif: "cup",
  },
  {
    slug: "house-blend-coffee",
    name: "House Blend Coffee, 340 g",
    description:
      "A medium roast of Colombian and Ethiopian beans with notes of cocoa and stone fruit. Roasted weekly.",
    priceCents: 1650,
    stock: 60,
    artHue: 28,
    artMotif: "bag",
  },
  {
    slug: "sencha-tea-tin",
    name: "Sencha Green Tea",
    description: "Fifty grams of first-flush sencha in a resealable tin. Brew cooler than you think: 70 °C.",
    priceCents: 1400,
    stock: 42,
    artHue: 98,
    artMotif: "box",
  },
  {
    slug: "glass-carafe",
    name: "Glass Water Carafe",
    description: "A one-litre borosilicate carafe whose cup doubles as a lid. For the desk or the bedside.",
    priceCents: 3200,
    stock: 18,
    artHue: 200,
    artMotif: "bottle",
  },
  {
    slug: "travel-bottle",
    name: "Insulated Travel Bottle",
    description: "Keeps coffee hot for six hours and water cold for a day, without a plastic taste.",
    priceCents: 3000,
    stock: 30,
    artHue: 140,
    artMotif: "bottle",
  },
  {
    slug: "dot-grid-notebook",
    name: "Dot Grid Notebook, A5",
    description:
      "192 pages of 100 g paper that fountain-pen ink does not bleed through, stitched to lie flat.",
    priceCents: 1800,
    stock: 48,
    artHue: 36,
    artMotif: "notebook",
  },
  {
    slug: "pocket-notebooks",
    name: "Pocket Notebooks, Set of 3",
    description: "Plain, lined and squared, in kraft covers that age nicely in a back pocket.",
    priceCents: 1200,
    stock: 55,
    artHue: 215,
    artMotif: "notebook",
  },
  {
    slug: "brass-ballpoint",
    name: "Brass Ballpoint Pen",
    description: "Solid brass that darkens with use, with a standard refill you can buy anywhere.",
    priceCents: 3800,
    stock: 20,
    artHue: 42,
    artMotif: "pen",
  },
  {
    slug: "everyday-fountain-pen",
    name: "Everyday Fountain Pen",
    description: "A steel medium nib in a light resin body, with a converter and two ink cartridges.",
    priceCents: 4500,
    stock: 12,
    artHue: 210,
    artMotif: "pen",
  },
  {
    slug: "beeswax-candle",
    name: "Beeswax Pillar Candle",
    description: "Pure beeswax from a local apiary. Burns for about forty hours with a faint smell of honey.",
    priceCents: 2200,
    stock: 26,
    artHue: 38,
    artMotif: "candle",
  },
  {
    slug: "cedar-candle",
    name: "Cedar & Smoke Candle",
    description: "A small batch of soy wax poured into a reusable amber glass. Only a few left this month.",
    priceCents: 3400,
    stock: 3,
    artHue: 22,
    artMotif: "candle",
  },
  {
    slug: "linen-desk-lamp",
    name: "Linen Shade Desk Lamp",
    description: "An oak base with a natural linen shade and a warm 2700 K bulb included.",
    priceCents: 8900,
    stock: 8,
    artHue: 30,
    artMotif: "lamp",
  },
  {
    slug: "pothos-clay-pot",
    name: "Pothos in a Clay Pot",
    description: "An easy trailing plant in a 12 cm terracotta pot. Forgives a missed watering or two.",
    priceCents: 2600,
    stock: 15,
    artHue: 120,
    artMotif: "plant",
  },
  {
    slug: "small-olive-tree",
    name: "Small Olive Tree",
    description: "A young olive tree about 50 cm tall that likes the sunniest window you have.",
    priceCents: 4800,
    stock: 10,
    artHue: 88,
    artMotif: "plant",
  },
  {
    slug: "waxed-canvas-tote",
    name: "Waxed Canvas Tote",
    description: "Showerproof waxed cotton with leather handles and an inside pocket for keys.",
    priceCents: 5400,
    stock: 14,
    artHue: 150,
    artMotif: "bag",
  },
  {
    slug: "oak-keepsake-box",
    name: "Oak Keepsake Box",
    description: "A dovetailed box in oiled oak for letters, pens or the odd treasure.",
    priceCents: 4000,
    stock: 9,
    artHue: 26,
    artMotif: "box",
  },
];

export const catalog: CatalogProduct[] = products.map((product) => ({
  id: `prod_${product.slug}`,
  ...product,
}));

async function seed(restock: boolean): Promise<void> {
  const { prisma } = await import("../server/db");
  try {
    const existing = await prisma.product.findMany({
      where: { id: { in: catalog.map((p) => p.id) } },
      select: { id: true },
    });
    await prisma.$transaction(
      catalog.map(({ id, stock, ...details }) =>
        prisma.product.upsert({
          where: { id },
          create: { id, stock, ...details },
          update: restock ? { stock, ...details } : details,
        }),
      ),
    );
    const created = catalog.length - existing.length;
    console.info(
      `seed: ${catalog.length} products (${created} created, ${existing.length} updated), ` +
        (restock ? "stock reset to seed values" : "stock of existing products kept (--restock resets it)"),
    );
  } finally {
    await prisma.$disconnect();
  }
}

function invokedDirectly(): boolean {
  const entry = process.argv[1];
  if (!entry || !existsSync(entry)) return false;
  return import.meta.url === pathToFileURL(realpathSync(entry)).href;
}

if (invokedDirectly()) {
  seed(process.argv.includes("--restock")).catch((error: unknown) => {
    console.error(`seed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
