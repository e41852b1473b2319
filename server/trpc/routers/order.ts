import { admitted } from "../../checkout/admission";
import { placeOrder } from "../../checkout/place";
import { AppError, orderIdInput, placeOrderInput } from "../../contract";
import { prisma } from "../../db";
import { findOrder, orderViewSelect, toOrderView } from "../../orders/view";
import { publicProcedure, router } from "../init";

export const orderRouter = router({
  place: publicProcedure
    .input(placeOrderInput)
    .mutation(({ input, ctx }) => admitted(() => placeOrder(input, ctx.ensureSession()))),

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
