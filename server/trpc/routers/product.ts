import { prisma } from "../../db";
import type { Prisma } from "../../generated/prisma/client";
import { publicProcedure, router } from "../init";

const productSelect = {
  id: true,
  slug: true,
  name: true,
  description: true,
  priceCents: true,
  stock: true,
  artHue: true,
  artMotif: true,
} satisfies Prisma.ProductSelect;

export const productRouter = router({
  list: publicProcedure.query(() =>
    prisma.product.findMany({ select: productSelect, orderBy: { createdAt: "asc" } }),
  ),
});
