// The API: one router per resource. `AppRouter` is the only thing the browser imports from here.
import { createCallerFactory, router } from "./init";
import { devRouter } from "./routers/dev";
import { orderRouter } from "./routers/order";
import { productRouter } from "./routers/product";

export const appRouter = router({
  product: productRouter,
  order: orderRouter,
  dev: devRouter,
});

export type AppRouter = typeof appRouter;

export const createCaller = createCallerFactory(appRouter);
