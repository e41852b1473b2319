// Reserve-and-create, one statement: take the items off the shelf and write the pending order with
// its items and steps, or do nothing at all. An idempotency key seen before writes nothing (the
// caller replays the first answer); so does a short or unknown product: the database refuses the
// statement (stock may not go below zero, an item must name a product) and only then do we read
// which line it was, to say so.
import { randomUUID } from "node:crypto";
import {
  AppError,
  type CheckoutMode,
  conditionsOf,
  type OrderConditions,
  type OrderView,
  type PlaceOrderInput,
} from "../contract";
import { Prisma, prisma, sql, sqlState, utc } from "../db";
import { getSettings } from "../downstream/settings";
import { simulateCall } from "../downstream/simulate";
import { publish } from "../orders/feed";
import { initialSteps, newOrderRecordColumns, type OrderRecord } from "../orders/view";

export interface NewOrder {
  input: PlaceOrderInput;
  sessionId: string;
  mode: CheckoutMode;
  requestHash: string;
  receivedAt: Date;
}

/** Returns the pending order (stock taken, payment about to start), or null when an order with this
 * idempotency key exists already. */
export async function reserve(order: NewOrder, deadline: AbortSignal): Promise<OrderView | null> {
  // The knobs this checkout runs under, kept with the order (the same in-process copy every provider
  // call of this checkout reads).
  const conditions = conditionsOf((await getSettings()).services);
  try {
    await simulateCall("inventory", deadline);
  } catch (error) {
    const reason = error instanceof Error ? error.message : "unknown error";
    throw new AppError("DEPENDENCY_FAILED", `Checkout could not start: ${reason}. Please try again.`);
  }
  try {
    const [created] = await sql<OrderRecord>(createStatement(order, conditions));
    return created ? publish(created) : null;
  } catch (error) {
    const state = sqlState(error);
    // 23514: a CHECK (stock >= 0); 23502/23503: an item naming no product.
    if (state === "23514" || state === "23502" || state === "23503") throw await whyRefused(order.input);
    throw error;
  }
}

function createStatement(
  { input, sessionId, mode, requestHash, receivedAt }: NewOrder,
  conditions: OrderConditions,
): Prisma.Sql {
  const reservedAt = new Date();
  const steps = initialSteps({
    inventory: {
      status: "succeeded",
      attempts: 1,
      startedAt: receivedAt.toISOString(),
      finishedAt: reservedAt.toISOString(),
    },
    // The gateway is asked right after this commits: an order found in this state may hold an
    // authorization (see server/orders/compensate.ts).
    payment: { status: "running", attempts: 1, startedAt: reservedAt.toISOString() },
  });
  const wanted = input.items.map(({ productId, quantity }) => ({ productId, quantity }));
  // Products are locked in id order before anything else, so concurrent checkouts never deadlock;
  // the order is inserted before the stock is taken, so a repeated key takes nothing. (Postgres runs
  // every data-modifying CTE to completion, read or not.)
  return Prisma.sql`WITH wanted AS (
    SELECT * FROM jsonb_to_recordset(${JSON.stringify(wanted)}::jsonb) AS w("productId" text, "quantity" int)
  ), shelf AS MATERIALIZED (
    SELECT p."id", p."name", p."priceCents" FROM "Product" p
    WHERE p."id" IN (SELECT "productId" FROM wanted) ORDER BY p."id" FOR UPDATE
  ), lines AS (
    SELECT w."productId", w."quantity", s."name", s."priceCents" FROM wanted w LEFT JOIN shelf s ON s."id" = w."productId"
  ), created AS (
    INSERT INTO "Order" ("id", "sessionId", "idempotencyKey", "requestHash", "mode", "status", "customerName",
      "customerEmail", "totalCents", "createdAt", "steps", "conditions")
    SELECT ${randomUUID()}, ${sessionId}, ${input.idempotencyKey}, ${requestHash}, ${mode}, 'pending',
      ${input.customer.name}, ${input.customer.email}, sum(l."priceCents" * l."quantity"), ${utc(receivedAt)},
      ${JSON.stringify(steps)}::jsonb, ${JSON.stringify(conditions)}::jsonb
    FROM lines l
    ON CONFLICT ("idempotencyKey") DO NOTHING
    RETURNING *
  ), added AS (
    INSERT INTO "OrderItem" ("orderId", "productId", "name", "unitPriceCents", "quantity")
    SELECT created."id", l."productId", l."name", l."priceCents", l."quantity" FROM created, lines l
    RETURNING "id", "productId", "name", "unitPriceCents", "quantity"
  ), taken AS (
    UPDATE "Product" p SET "stock" = p."stock" - a."quantity" FROM added a WHERE p."id" = a."productId"
    RETURNING p."id"
  )
  SELECT ${newOrderRecordColumns("added")} FROM created o`;
}

/** After the database refused a checkout: which line could not be had. */
async function whyRefused(input: PlaceOrderInput): Promise<AppError> {
  const products = await prisma.product.findMany({
    where: { id: { in: input.items.map((item) => item.productId) } },
    select: { id: true, name: true, stock: true },
  });
  for (const { productId, quantity } of input.items) {
    const product = products.find((candidate) => candidate.id === productId);
    if (!product) return new AppError("BAD_REQUEST", `Unknown product: ${productId}`, { productId });
    if (product.stock < quantity) {
      return new AppError("OUT_OF_STOCK", `${product.name} is out of stock`, { productId });
    }
  }
  return new AppError("OUT_OF_STOCK", "Some items sold out while you checked out; please try again.");
}
