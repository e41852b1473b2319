// The critical path, always synchronous: reserve the stock, authorize the payment, confirm the order.
// Then the one branch this project is about: does the request wait for the side effects?
//   async          → the confirmation writes outbox rows; the shopper gets an answer now.
//   sync           → the request runs every side effect, one after another, then answers.
//   sync-parallel  → the request runs them all at once and answers when the slowest is done.
import { createHash, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  AppError,
  type CheckoutMode,
  FIRST_SIDE_EFFECTS,
  type OrderView,
  type PlaceOrderInput,
  STEP_NAMES,
  STEPS,
} from "../contract";
import { prisma } from "../db";
import { getSettings } from "../downstream/settings";
import { callDownstream, DownstreamError, serviceTitle, simulateCall } from "../downstream/simulate";
import { Prisma } from "../generated/prisma/client";
import { compensate } from "../orders/compensate";
import { commitChange, StaleOrderError } from "../orders/state";
import { findOrder, type OrderRecord, toOrderView } from "../orders/view";
import { InlineStepFailure, runSideEffectsInline } from "./inline";

/** How long a repeated request waits for the first one with the same key to answer. */
const REPLAY_WAIT_MS = 60_000;
const REPLAY_POLL_MS = 50;

export async function placeOrder(input: PlaceOrderInput, sessionId: string): Promise<OrderView> {
  const receivedAt = new Date();
  const mode = input.mode ?? (await getSettings()).defaultMode;
  const requestHash = hashRequest(input, mode);
  const existing = await orderIdForKey(input.idempotencyKey);
  if (existing) return replay(existing, requestHash, sessionId);

  const reserved = await reserve(input, { sessionId, mode, requestHash, receivedAt });
  if (!reserved) {
    // Another request with the same key got there first; answer as it does.
    const winner = await orderIdForKey(input.idempotencyKey);
    if (!winner) throw new AppError("IDEMPOTENCY_CONFLICT", "This checkout is being retried; try again.");
    return replay(winner, requestHash, sessionId);
  }

  const { orderId } = reserved;
  const authorization = await authorize(reserved);
  const confirmedAt = new Date();
  const placed = await commitChange(orderId, {
    status: "placed",
    expectStatus: "pending",
    steps: {
      payment: { status: "succeeded", finishedAt: confirmedAt, detail: `Authorized ${authorization}` },
      order: { status: "succeeded", attempts: 1, startedAt: confirmedAt, finishedAt: confirmedAt },
    },
    outbox: mode === "async" ? FIRST_SIDE_EFFECTS : [],
    confirmedAt: mode === "async" ? confirmedAt : undefined,
  }).catch(interrupted(orderId));
  if (mode === "async") return placed;

  try {
    await runSideEffectsInline(orderId, mode);
  } catch (error) {
    if (!(error instanceof InlineStepFailure)) throw error;
    const culprit =
      error.cause instanceof DownstreamError
        ? `the ${serviceTitle(error.cause.service).toLowerCase()}`
        : STEPS[error.step].label;
    const reason = `${STEPS[error.step].label} failed: ${error.message}. Nothing was charged.`;
    await compensate(orderId, { status: "failed", reason });
    throw new AppError("DEPENDENCY_FAILED", `Checkout failed because ${culprit} broke: ${error.message}.`, {
      orderId,
      step: error.step,
    });
  }
  return commitChange(orderId, { confirmedAt: new Date() });
}

/** The sweeper gave up on this checkout while it was still running (see server/orders/sweeper.ts):
 * it has compensated the order, so the shopper is told and nothing was charged. */
function interrupted(orderId: string) {
  return (error: unknown): never => {
    if (!(error instanceof StaleOrderError)) throw error;
    console.warn(`checkout ${orderId} not confirmed: ${error.message}`);
    throw new AppError(
      "DEPENDENCY_FAILED",
      "The checkout took too long and was cancelled. Nothing was charged.",
      {
        orderId,
      },
    );
  };
}

async function orderIdForKey(idempotencyKey: string): Promise<string | null> {
  const order = await prisma.order.findUnique({ where: { idempotencyKey }, select: { id: true } });
  return order?.id ?? null;
}

function hashRequest(input: PlaceOrderInput, mode: CheckoutMode): string {
  const canonical = {
    items: [...input.items].sort((a, b) => a.productId.localeCompare(b.productId)),
    customer: { name: input.customer.name, email: input.customer.email.toLowerCase() },
    mode,
  };
  return createHash("sha256").update(JSON.stringify(canonical)).digest("hex");
}

interface Reservation {
  orderId: string;
  totalCents: number;
}

interface NewOrder {
  sessionId: string;
  mode: CheckoutMode;
  requestHash: string;
  receivedAt: Date;
}

/** Creates the pending order and takes its items off the shelf, atomically. Returns null when an
 * order with this idempotency key already exists. Writes nothing if any item is short. */
async function reserve(input: PlaceOrderInput, order: NewOrder): Promise<Reservation | null> {
  try {
    await simulateCall("inventory");
  } catch (error) {
    throw dependencyError(error);
  }
  const orderId = randomUUID();
  try {
    return await prisma.$transaction(async (tx) => {
      const ids = input.items.map((item) => item.productId);
      const products = await tx.product.findMany({
        where: { id: { in: ids } },
        select: { id: true, name: true, priceCents: true },
      });
      const lines = input.items.map((item) => {
        const product = products.find((candidate) => candidate.id === item.productId);
        if (!product) {
          throw new AppError("BAD_REQUEST", `Unknown product: ${item.productId}`, {
            productId: item.productId,
          });
        }
        return { product, quantity: item.quantity };
      });
      const totalCents = lines.reduce((sum, line) => sum + line.product.priceCents * line.quantity, 0);
      // Conditional decrements in a fixed order: concurrent buyers never oversell or deadlock.
      for (const { product, quantity } of [...lines].sort((a, b) =>
        a.product.id.localeCompare(b.product.id),
      )) {
        const taken = await tx.$executeRaw`
          UPDATE "Product" SET "stock" = "stock" - ${quantity}
          WHERE "id" = ${product.id} AND "stock" >= ${quantity}`;
        if (taken === 0) {
          throw new AppError("OUT_OF_STOCK", `${product.name} is out of stock`, { productId: product.id });
        }
      }
      // Written after the decrements, so the step's time covers them. A concurrent request with the
      // same idempotency key fails here (unique key) and its decrements roll back with it.
      const reservedAt = new Date();
      await tx.order.create({
        data: {
          id: orderId,
          sessionId: order.sessionId,
          idempotencyKey: input.idempotencyKey,
          requestHash: order.requestHash,
          mode: order.mode,
          status: "pending",
          customerName: input.customer.name,
          customerEmail: input.customer.email,
          totalCents,
          createdAt: order.receivedAt,
          items: {
            createMany: {
              data: lines.map(({ product, quantity }) => ({
                productId: product.id,
                name: product.name,
                unitPriceCents: product.priceCents,
                quantity,
              })),
            },
          },
          steps: {
            createMany: {
              data: STEP_NAMES.map((name) =>
                name === "inventory"
                  ? {
                      name,
                      status: "succeeded",
                      attempts: 1,
                      startedAt: order.receivedAt,
                      finishedAt: reservedAt,
                    }
                  : { name, status: "pending" },
              ),
            },
          },
        },
      });
      return { orderId, totalCents };
    });
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002") return null;
    throw error;
  }
}

/** Asks the gateway to hold the money; returns the authorization id. No transaction is open while
 * the gateway answers. A decline or an outage gives the stock back and fails the order. */
async function authorize({ orderId, totalCents }: Reservation): Promise<string> {
  await commitChange(orderId, {
    steps: { payment: { status: "running", attempts: 1, startedAt: new Date() } },
  });
  try {
    const authorization = await callDownstream({
      service: "payment",
      operation: "authorize",
      idempotencyKey: orderId,
      perform: () => ({ authorizationId: `auth_${randomUUID().slice(0, 12)}`, amountCents: totalCents }),
    });
    return authorization.authorizationId;
  } catch (error) {
    const failure = paymentError(error, orderId);
    await commitChange(orderId, {
      steps: { payment: { status: "failed", finishedAt: new Date(), error: failure.message } },
    });
    await compensate(orderId, { status: "failed", reason: failure.message });
    throw failure;
  }
}

function paymentError(error: unknown, orderId: string): AppError {
  if (error instanceof DownstreamError && error.kind === "error") {
    return new AppError("PAYMENT_DECLINED", "Your payment was declined. Nothing was charged.", { orderId });
  }
  const reason = error instanceof Error ? error.message : "unknown error";
  return new AppError(
    "DEPENDENCY_FAILED",
    `We could not reach the payment gateway (${reason}). Nothing was charged.`,
    {
      orderId,
    },
  );
}

function dependencyError(error: unknown): AppError {
  const reason = error instanceof Error ? error.message : "unknown error";
  return new AppError("DEPENDENCY_FAILED", `Checkout could not start: ${reason}. Please try again.`);
}

/** A repeated request: same key and same body → the same order (once the first request answered). */
async function replay(orderId: string, requestHash: string, sessionId: string): Promise<OrderView> {
  const existing = await findOrder({ id: orderId });
  if (!existing) throw new AppError("NOT_FOUND", "Order not found");
  if (existing.sessionId !== sessionId || existing.requestHash !== requestHash) {
    throw new AppError(
      "IDEMPOTENCY_CONFLICT",
      "This idempotency key was already used for a different order. Use a new key for a new order.",
    );
  }
  let order: OrderRecord | null = existing;
  const deadline = Date.now() + REPLAY_WAIT_MS;
  while (order && !answered(order) && Date.now() < deadline) {
    await sleep(REPLAY_POLL_MS);
    order = await findOrder({ id: existing.id });
  }
  if (!order) throw new AppError("NOT_FOUND", "Order not found");
  if (order.status === "failed") {
    const paymentFailed = order.steps.some((step) => step.name === "payment" && step.status === "failed");
    throw new AppError(
      paymentFailed ? "PAYMENT_DECLINED" : "DEPENDENCY_FAILED",
      order.failureReason ?? "Checkout failed",
      {
        orderId: order.id,
      },
    );
  }
  return toOrderView(order);
}

/** The first request has answered the shopper: confirmed, or failed. */
function answered(order: OrderRecord): boolean {
  return order.confirmedAt !== null || order.status === "failed" || order.status === "cancelled";
}
