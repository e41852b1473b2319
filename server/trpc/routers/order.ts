import { performance } from "node:perf_hooks";
import { admitted } from "../../checkout/admission";
import { placeOrder } from "../../checkout/place";
import { AppError, myOrdersInput, orderIdInput, placeOrderInput } from "../../contract";
import { getSettings } from "../../downstream/settings";
import { timedCheckout } from "../../metrics/checkout";
import { ordersOfSession } from "../../orders/summaries";
import { findOrder, toOrderView } from "../../orders/view";
import { perSessionLimit, publicProcedure, router } from "../init";

/** The comparison page asks every 2 s and every page of the shop every 5 s, in every open tab. */
export const MY_ORDERS_LIMIT = { max: 30, windowMs: 10_000 };

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

  /** This session's orders, newest first, a page at a time, as summaries: the comparison view's data. */
  mine: publicProcedure
    .use(perSessionLimit(MY_ORDERS_LIMIT))
    .input(myOrdersInput)
    .query(async ({ input, ctx }) => {
      if (!ctx.sessionId) return { orders: [], nextCursor: null };
      return ordersOfSession(ctx.sessionId, input);
    }),
});
