// What both benchmarks stand on: their own database (created, migrated and emptied each run, so no
// backlog from an earlier run), their own Redis namespace, and one product with endless stock.
// Import it before anything from server/: it sets the environment server/config.ts reads.
import { migrate } from "../../scripts/migrate";

export const benchEnv = {
  DATABASE_URL: process.env.BENCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/storefront_bench",
  REDIS_PREFIX: process.env.BENCH_REDIS_PREFIX ?? "storefront-bench",
};
Object.assign(process.env, benchEnv);
await migrate(benchEnv.DATABASE_URL);

const { DEFAULT_SHOP_CAPACITY, PRESETS, SERVICE_NAMES } = await import("../../server/contract");
const { closeDatabase, prisma } = await import("../../server/db");
const { replaceSettings } = await import("../../server/downstream/settings");
const { closeRedis } = await import("../../server/redis");

export const BENCH_PRODUCT = "bench_product";

/** Every service instant and unlimited, except the latencies given. */
export function benchServices(latencies: Partial<Record<(typeof SERVICE_NAMES)[number], number>> = {}) {
  const services = { ...PRESETS["all-fast"].services };
  for (const name of SERVICE_NAMES) {
    services[name] = { ...services[name], latencyMs: latencies[name] ?? 0, capacity: 1000 };
  }
  return services;
}

export async function prepareBench(services: typeof PRESETS.realistic.services): Promise<void> {
  await replaceSettings({ defaultMode: "async", services, shop: DEFAULT_SHOP_CAPACITY });
  await prisma.$executeRaw`TRUNCATE "Order", "DownstreamCall" CASCADE`;
  const product = {
    slug: BENCH_PRODUCT,
    name: "Benchmark product",
    description: "Stock for the benchmark.",
    priceCents: 1000,
    stock: 10_000_000,
    artHue: 0,
    artMotif: "box",
  };
  await prisma.product.upsert({
    where: { id: BENCH_PRODUCT },
    create: { id: BENCH_PRODUCT, ...product },
    update: { stock: product.stock },
  });
}

export async function closeBench(): Promise<void> {
  await closeRedis();
  await closeDatabase();
}

export { prisma };
