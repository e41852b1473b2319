import { performance } from "node:perf_hooks";
import { admitted } from "../../checkout/admission";
import { placeOrder } from "../../checkout/place";
import { AppError, orderIdInput, orderKeyInput, placeOrderInput } from "../../contract";
import { prisma } from "../../db";
import { getSettings } from "../../downstream/settings";
import { timedCheckout } from "../../metrics/checkout";
import { recentOrderViews } from "../../orders/recent";
import { relatedToOrder } from "../../orders/related";
import { findOrder, orderViewSelect, toOrderView } from "../../orders/view";
import { publicProcedure, router } from "../init";

export const orderRouter = router({
  place: publicProcedure.input(placeOrderInput).mutation(async ({ input, ctx }) => {
    const arrivedAt = ctx.arrivedAt ?? performance.now();
    // Resolved here (not in placeOrder) so that a refused checkout is measured under its mode too.
    const mode = input.mode ?? (await getSettings()).defaultMode;
    return timedCheckout(arrivedAt, mode, () =>
      admitted(() => placeOrder({ ...input, mode }, ctx.ensureSession())),
    );
  }),

  byId: publicProcedure.input(orderIdInput).query(async ({ input, ctx }) => {
    const order = await findOrder({ id: input.orderId });
    // Another session's order is indistinguishable from one that does not exist.
    if (!order || order.sessionId !== ctx.sessionId) throw new AppError("NOT_FOUND", "Order not found");
    return toOrderView(order);
  }),

  /** The order a checkout's idempotency key placed (or is placing): a page reloaded mid-checkout
   * resumes from the key it kept. */
  byKey: publicProcedure.input(orderKeyInput).query(async ({ input, ctx }) => {
    const order = await findOrder({ idempotencyKey: input.idempotencyKey });
    if (!order || order.sessionId !== ctx.sessionId) throw new AppError("NOT_FOUND", "Order not found");
    return toOrderView(order);
  }),

  /** The order of the other mode that ran under the same conditions, and the order's queue jobs. */
  related: publicProcedure.input(orderIdInput).query(async ({ input, ctx }) => {
    const related = ctx.sessionId ? await relatedToOrder(input.orderId, ctx.sessionId) : null;
    if (!related) throw new AppError("NOT_FOUND", "Order not found");
    // The jobs live behind the developer tools: no links to a door that is shut.
    return ctx.devTools === "off" ? { ...related, jobs: [] } : related;
  }),

  /** This session's recent orders as full views, for /orders: compared by conditions and mode. */
  compare: publicProcedure.query(({ ctx }) => recentOrderViews(ctx.sessionId)),

  /** This session's recent orders, newest first: the comparison view's data. */
  mine: publicProcedure.query(async ({ ctx }) => {
    if (!ctx.sessionId) return [];
    const orders = await prisma.order.findMany({
      where: { sessionId: ctx.sessionId },
      orderBy: { createdAt: "desc" },
      take: RECENT_ORDERS,
      select: orderViewSelect,
      relationLoadStrategy: "join",
    });
    return orders.map(toOrderView);
  }),
});

const RECENT_ORDERS = 50;
