// The order as every client sees it (tRPC answers and socket.io pushes carry the same view),
// plus the inputs that create one.
import { z } from "zod";
import { orderConditionsSchema } from "./conditions";
import { closedList } from "./lists";
import { CHECKOUT_MODES, type CheckoutMode, checkoutModeSchema } from "./modes";
import { stepNameSchema, stepStatusSchema } from "./steps";
import { plainText } from "./text";

interface ModeDefinition {
  label: string;
  /** One line for the UI: what the shopper's request waits for in this mode. */
  explains: string;
  /** The one decision this project is about: does the checkout request wait for the side effects? */
  waitsForSideEffects: boolean;
  /** When it waits: for all of them at once (true), or one after another (false). */
  parallel: boolean;
}

export const MODES: Record<CheckoutMode, ModeDefinition> = {
  async: {
    label: "Async",
    explains:
      "the request waits only for stock and payment; fraud screening, email, analytics and fulfillment finish later, live.",
    waitsForSideEffects: false,
    parallel: true,
  },
  sync: {
    label: "Sync",
    explains:
      "the request waits for every side effect, one after another: their latencies stack up behind the spinner.",
    waitsForSideEffects: true,
    parallel: false,
  },
  "sync-parallel": {
    label: "Sync-parallel",
    explains:
      "the request starts the side effects side by side and waits until all are done, so the longest chain sets the wait: fraud screening, then fulfillment. Less stacking, same coupling.",
    waitsForSideEffects: true,
    parallel: true,
  },
};

/** Modes whose side effects go through the queues (the request does not wait for them). */
export const QUEUED_MODES = CHECKOUT_MODES.filter((mode) => !MODES[mode].waitsForSideEffects);

export const { names: ORDER_STATUSES, schema: orderStatusSchema } = closedList([
  "pending",
  "placed",
  "completed",
  "cancelled",
  "failed",
  "needs_attention",
]);
export type OrderStatus = z.infer<typeof orderStatusSchema>;

/** Placed and not final: side effects may still run, and the status settles from the steps. */
export const LIVE_ORDER_STATUSES: readonly OrderStatus[] = ["placed", "needs_attention"];
/** Undone by compensation (stock back, payment voided): final, nothing runs for it any more. */
export const UNDONE_ORDER_STATUSES: readonly OrderStatus[] = ["cancelled", "failed"];

/** What the web process logs when a queued checkout's answer was lost after its confirmation committed
 * (the order stands, and its side effects run): the chaos soak counts these lines, so that a soak that
 * never reached this path says so. */
export const BROKE_OFF_AFTER_CONFIRM =
  "checkout broke off after its confirmation committed: the order stands";

/** What a worker's reconciler logs (at warn) for each side effect it hands back to the outbox because
 * its job was lost or ended without finishing the step: the chaos soak counts these lines. */
export const REDROVE_SIDE_EFFECT = "re-drove a side effect";

/** What a worker logs (at warn) when it replaces a queue's consumer that stopped taking jobs while they
 * waited (workers/side-effects.ts): the chaos soak counts these lines too. */
export const REPLACED_STALLED_CONSUMER = "replaced a consumer that took no job while jobs waited";

/** Largest quantity of one product in one order: a shop limit, not a stock check. */
export const MAX_QUANTITY = 20;
export const MAX_LINES = 50;
/** Most calls one tRPC batch request may carry (the server refuses more with 400; the client splits). */
export const MAX_BATCH_SIZE = 10;

export const placeOrderInput = z.object({
  items: z
    .array(
      z.object({
        productId: plainText("productId").trim().min(1, "productId is required").max(64),
        quantity: z
          .number("quantity must be a number")
          .int("quantity must be a whole number")
          .min(1, "quantity must be at least 1")
          .max(MAX_QUANTITY, `quantity can be at most ${MAX_QUANTITY}`),
      }),
    )
    .min(1, "the cart is empty")
    .max(MAX_LINES, `at most ${MAX_LINES} lines per order`)
    .refine((items) => new Set(items.map((item) => item.productId)).size === items.length, {
      message: "each product may appear only once; combine the quantities",
    }),
  customer: z.object({
    name: plainText("name").trim().min(1, "name is required").max(100, "name is too long"),
    email: z
      .email({
        error: (issue) => (issue.input === "" ? "email is required" : "email is not a valid address"),
      })
      .max(200),
  }),
  idempotencyKey: z
    .string()
    .min(8, "idempotencyKey must be at least 8 characters")
    .max(100)
    .regex(/^[A-Za-z0-9_-]+$/, "idempotencyKey may contain letters, digits, - and _ only"),
  mode: checkoutModeSchema.optional(),
});
export type PlaceOrderInput = z.infer<typeof placeOrderInput>;

export const orderIdInput = z.object({ orderId: z.uuid("orderId must be a UUID") });
export const orderKeyInput = placeOrderInput.pick({ idempotencyKey: true });

const isoDate = z.iso.datetime();

/** How one attempt of a side effect ended; null while it runs. */
export const ATTEMPT_OUTCOMES = ["succeeded", "rejected", "failed", "dead-lettered"] as const;
export const attemptOutcomeSchema = z.enum(ATTEMPT_OUTCOMES);
export type AttemptOutcome = z.infer<typeof attemptOutcomeSchema>;

/** Attempts a step keeps in its history: the latest ones (4 queue attempts, an operator's retry and a
 * few more); `attempts` still counts them all. */
export const MAX_ATTEMPT_HISTORY = 8;

/** One attempt of a side effect, as the waterfall draws it. */
export const stepAttemptView = z.object({
  /** When the job could be picked up: enqueued by the outbox relay (first delivery). Null when not
   * known: an inline run (no queue), or a retry (then it became due `backoffMs` after the previous
   * attempt failed). */
  queuedAt: isoDate.nullable(),
  /** The deliberate wait before this attempt, after the previous one failed (exponential backoff). */
  backoffMs: z.number().int().nullable(),
  startedAt: isoDate,
  finishedAt: isoDate.nullable(),
  outcome: attemptOutcomeSchema.nullable(),
  error: z.string().nullable(),
});
export type StepAttemptView = z.infer<typeof stepAttemptView>;

export const orderStepView = z.object({
  name: stepNameSchema,
  status: stepStatusSchema,
  /** How many times the step was tried (all of them; attemptHistory keeps the latest). */
  attempts: z.number().int(),
  /** The first attempt's start, and the last one's finish. */
  startedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
  error: z.string().nullable(),
  detail: z.string().nullable(),
  attemptHistory: z.array(stepAttemptView),
  /** When the step last ran out of attempts and its job came to rest in the dead-letter set. */
  deadLetteredAt: isoDate.nullable(),
  /** When a person last replayed it from the dead-letter set (/dev), or gave up on it. */
  retriedByOperatorAt: isoDate.nullable(),
  discardedAt: isoDate.nullable(),
  /** When the order's compensation undid this step (stock released, authorization voided, shipment
   * cancelled): later than the step's own run, often by seconds. */
  compensatedAt: isoDate.nullable(),
});
export type OrderStepView = z.infer<typeof orderStepView>;

export const orderView = z.object({
  id: z.string(),
  status: orderStatusSchema,
  mode: checkoutModeSchema,
  totalCents: z.number().int(),
  customer: z.object({ name: z.string(), email: z.string() }),
  items: z.array(
    z.object({
      productId: z.string(),
      name: z.string(),
      unitPriceCents: z.number().int(),
      quantity: z.number().int(),
    }),
  ),
  steps: z.array(orderStepView),
  failureReason: z.string().nullable(),
  /** The knobs in force at checkout (null: an order placed before they were recorded). */
  conditions: orderConditionsSchema.nullable(),
  version: z.number().int(),
  createdAt: isoDate,
  confirmedAt: isoDate.nullable(),
  settledAt: isoDate.nullable(),
});
export type OrderView = z.infer<typeof orderView>;

/** One of this session's orders as the list (order.mine) shows it: the two clocks and each step's
 * status, without the steps' histories (order.byId has those, for one order at a time). */
export const orderSummaryView = orderView
  .pick({
    id: true,
    status: true,
    mode: true,
    totalCents: true,
    version: true,
    createdAt: true,
    confirmedAt: true,
    settledAt: true,
  })
  .extend({ steps: z.array(orderStepView.pick({ name: true, status: true })) });
export type OrderSummary = z.infer<typeof orderSummaryView>;

/** Most orders one page of order.mine holds. */
export const MY_ORDERS_PAGE = 50;

export const myOrdersInput = z.object({
  /** The last order of the previous page (its `nextCursor`): the page goes on from there, older. */
  cursor: z.uuid("cursor must be an order id").optional(),
  limit: z
    .number()
    .int("limit must be a whole number")
    .min(1, "limit must be at least 1")
    .max(MY_ORDERS_PAGE, `limit can be at most ${MY_ORDERS_PAGE}`)
    .default(MY_ORDERS_PAGE),
});

export const myOrdersPage = z.object({
  orders: z.array(orderSummaryView),
  /** Where the next, older page starts; null when this page is the last. */
  nextCursor: z.string().nullable(),
});
export type MyOrdersPage = z.infer<typeof myOrdersPage>;
