import { performance } from "node:perf_hooks";
import { admitted } from "../../checkout/admission";
import { placeOrder } from "../../checkout/place";
import { AppError, orderIdInput, placeOrderInput } from "../../contract";
import { prisma } from "../../db";
import { getSettings } from "../../downstream/settings";
import { timedCheckout } from "../../metrics/checkout";
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
