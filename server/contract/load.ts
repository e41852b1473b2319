// Virtual shoppers (`npm run load`, spawned as well by the /dev Rush hour panel): the settings of one
// run, checked here once for the command line and the panel alike, and the lines the run prints with
// `--json`, so the process that spawned it can parse them safely.
import { z } from "zod";
import { APP_ERROR_CODES } from "./errors";
import { isLoopback } from "./hosts";
import { closedList } from "./lists";
import { checkoutModeSchema } from "./modes";
import { presetNameSchema } from "./services";

export const MAX_SHOPPERS = 500;
export const MAX_DURATION_MS = 10 * 60_000;
export const MAX_PAUSE_MS = 60_000;
export const MAX_BURST = 5000;
export const MAX_RATE_PER_S = 500;
/** One order every ten seconds: anything slower would leave a run of at most 10 minutes almost empty. */
export const MIN_RATE_PER_S = 0.1;

export const LOAD_DEFAULTS = { shoppers: 10, pauseMs: 1000, durationMs: 30_000 } as const;

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000 } as const;
const DURATION_TEXT = /^(\d+(?:\.\d+)?)(ms|s|m)$/;

/** A number from the panel, or its text from the command line ("-3" included, so it can be refused
 * for what it is). A number is checked as the text it becomes on the command line the panel spawns, so
 * the panel accepts exactly what the load process will: 1e-9 is no more a rate here than "1e-9/s" is. */
function numeric(name: string, text: RegExp, hint: string) {
  return z.union([z.number().transform(String), z.string()], { error: `${name} takes ${hint}` }).pipe(
    z
      .string()
      .trim()
      .regex(text, `${name} takes ${hint}`)
      .transform((value) => Number.parseFloat(value)),
  );
}

function count(name: string, max: number) {
  return numeric(name, /^-?\d+(\.\d+)?$/, "a whole number").pipe(
    z
      .number()
      .int(`${name} must be a whole number`)
      .min(1, `${name} must be at least 1`)
      .max(max, `${name} can be at most ${max}`),
  );
}

/** Milliseconds as a number, or text with a unit: `250ms`, `1s`, `1.5s`, `2m`. */
function duration(name: string, minMs: number, maxMs: number) {
  const text = z
    .string()
    .trim()
    .regex(DURATION_TEXT)
    .transform((value) => {
      const [, amount = "0", unit = "ms"] = DURATION_TEXT.exec(value) ?? [];
      return Math.round(Number(amount) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS]);
    });
  return z
    .union([z.number(), text], { error: `${name} takes a time with its unit, such as 250ms, 1s, 1.5s or 2m` })
    .pipe(
      z
        .number()
        .int()
        .min(minMs, `${name} must be at least ${durationFlag(minMs)}`)
        .max(maxMs, `${name} can be at most ${durationFlag(maxMs)}`),
    );
}

/** A duration as the command line writes it: `2m`, `1s`, `250ms`. */
export function durationFlag(ms: number): string {
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  return ms % 1000 === 0 && ms > 0 ? `${ms / 1000}s` : `${ms}ms`;
}

const rate = numeric("rate", /^-?\d+(\.\d+)?(\/s)?$/, "orders per second, such as 20/s").pipe(
  z
    .number()
    .min(MIN_RATE_PER_S, `rate must be at least ${MIN_RATE_PER_S}/s`)
    .max(MAX_RATE_PER_S, `rate can be at most ${MAX_RATE_PER_S}/s`),
);

/** A share of the orders, as a percentage ("10%", or 10 from the panel). */
const share = numeric("fraud", /^-?\d+(\.\d+)?%?$/, "a percentage, such as 10%").pipe(
  z.number().min(0, "fraud must be at least 0%").max(100, "fraud can be at most 100%"),
);

/** How new checkouts arrive: shoppers who each wait for their answer, pause and go again (closed
 * loop); a fixed arrival rate whatever the answers (open loop); or one burst at once. */
export const arrivalsSchema = z.discriminatedUnion("loop", [
  z.object({ loop: z.literal("closed"), shoppers: z.number().int(), pauseMs: z.number().int() }),
  z.object({ loop: z.literal("rate"), perSecond: z.number() }),
  z.object({ loop: z.literal("burst"), orders: z.number().int() }),
]);

/** A checked run, as the load process works from it (and reports it in its `started` line). */
export const loadPlanSchema = z.object({
  arrivals: arrivalsSchema,
  /** Closed loop and rate: how long checkouts keep coming. Burst: how long to wait for its answers. */
  durationMs: z.number().int(),
  mode: checkoutModeSchema,
  preset: presetNameSchema.nullable(),
  /** Each shopper watches its order over socket.io until it is done, like the order page. */
  watch: z.boolean(),
  /** The share of orders (0 to 1) that fraud screening rejects, so their compensation runs too. */
  fraudShare: z.number(),
  target: z.string(),
  allowRemote: z.boolean(),
});
export type LoadPlan = z.infer<typeof loadPlanSchema>;

/** What to run, without where: the command line's flags as text, or the panel's numbers (pause and
 * duration in ms, rate per second). Exactly one of closed loop (`shoppers`, `pause`; the default),
 * `rate` or `burst`. The panel sends this; its web process adds itself as the target. */
export const loadRequestSchema = z
  .strictObject({
    shoppers: count("shoppers", MAX_SHOPPERS).optional(),
    pause: duration("pause", 0, MAX_PAUSE_MS).optional(),
    duration: duration("duration", 1000, MAX_DURATION_MS).optional(),
    mode: checkoutModeSchema.default("async"),
    rate: rate.optional(),
    burst: count("burst", MAX_BURST).optional(),
    preset: presetNameSchema.optional(),
    watch: z.boolean().default(false),
    fraud: share.optional(),
  })
  .refine(
    (settings) => {
      const closed = settings.shoppers !== undefined || settings.pause !== undefined;
      return [closed, settings.rate !== undefined, settings.burst !== undefined].filter(Boolean).length <= 1;
    },
    { message: "choose one way for orders to arrive: shoppers (with pause), rate, or burst" },
  );
export type LoadRequest = z.input<typeof loadRequestSchema>;

/** A request with where to send it: a target off this machine only with `allowRemote`. */
export const loadSettingsSchema = z
  .object({
    request: loadRequestSchema,
    target: z.url({ protocol: /^https?$/, error: "target must be an http(s) URL" }),
    allowRemote: z.boolean().default(false),
  })
  .superRefine(({ target, allowRemote }, context) => {
    const host = new URL(target).hostname;
    if (!allowRemote && !isLoopback(host)) {
      context.addIssue({
        code: "custom",
        path: ["target"],
        message: `target ${host} is not this machine: refusing to send load there (allow it with --allow-remote)`,
      });
    }
  })
  .transform(
    ({ request: settings, target, allowRemote }): LoadPlan => ({
      arrivals:
        settings.rate !== undefined
          ? { loop: "rate", perSecond: settings.rate }
          : settings.burst !== undefined
            ? { loop: "burst", orders: settings.burst }
            : {
                loop: "closed",
                shoppers: settings.shoppers ?? LOAD_DEFAULTS.shoppers,
                pauseMs: settings.pause ?? LOAD_DEFAULTS.pauseMs,
              },
      durationMs: settings.duration ?? LOAD_DEFAULTS.durationMs,
      mode: settings.mode,
      preset: settings.preset ?? null,
      watch: settings.watch,
      fraudShare: (settings.fraud ?? 0) / 100,
      target,
      allowRemote,
    }),
  );
export type LoadSettings = z.input<typeof loadSettingsSchema>;

/** How orders arrive in a plan, in words: "20 shoppers, pause 1s, for 20s". */
export function describeArrivals(plan: LoadPlan): string {
  const { arrivals } = plan;
  if (arrivals.loop === "closed") {
    return `${arrivals.shoppers} shoppers, pause ${durationFlag(arrivals.pauseMs)}, for ${durationFlag(plan.durationMs)}`;
  }
  if (arrivals.loop === "rate") return `${arrivals.perSecond} orders/s for ${durationFlag(plan.durationMs)}`;
  return `a burst of ${arrivals.orders} orders, answers awaited up to ${durationFlag(plan.durationMs)}`;
}

/** How a checkout attempt can end without an order: the shop's own error codes, and what a client
 * finds out by itself. */
export const { names: LOAD_ERROR_KINDS, schema: loadErrorKindSchema } = closedList([
  ...APP_ERROR_CODES,
  /** The catalog showed nothing in stock: no checkout was sent. */
  "NOTHING_IN_STOCK",
  /** The catalog (`product.list`) did not answer with products: no checkout was sent. */
  "CATALOG_FAILED",
  /** No HTTP answer at all (connection refused or reset). */
  "NETWORK",
  /** No answer within the request timeout. */
  "TIMEOUT",
  /** An answer without one of the shop's codes (a 500, a proxy's error page). */
  "SERVER_ERROR",
]);
export type LoadErrorKind = z.infer<typeof loadErrorKindSchema>;

const ms = z.number().nonnegative();
const percentiles = z.object({ p50: ms.nullable(), p95: ms.nullable(), p99: ms.nullable() });
/** Jobs not finished yet (waiting, delayed or running), over every side-effect queue; null when the
 * developer tools (which report it) are off or locked. */
const queueDepth = z.number().int().nonnegative().nullable();

export const loadStartedEventSchema = z.object({
  type: z.literal("started"),
  /** Tags every order of the run: customer emails end in `.<runId>@load.example`. */
  runId: z.string(),
  settings: loadPlanSchema,
  startedAt: z.iso.datetime(),
});

/** Every second while checkouts come in. Percentiles cover that last second only. */
export const loadProgressEventSchema = z.object({
  type: z.literal("progress"),
  elapsedMs: ms,
  /** Checkout attempts that ended (an order or an error), since the start. */
  answered: z.number().int(),
  placed: z.number().int(),
  errors: z.number().int(),
  /** Orders placed per second since the last progress line (its real length, not a nominal second). */
  ordersPerSecond: z.number(),
  inFlight: z.number().int(),
  answerMs: percentiles,
  catalogMs: percentiles,
  queueDepth,
});

/** Every second (and once more before the summary): each figure the load process took since the last
 * one, so whoever spawned it computes exact percentiles over any window it likes (the Rush hour lab:
 * its seconds). `at`: when the figure was taken, in ms since the run started. Time to answer: from the
 * click (Purchase) to the answer of a placed order. Time to done: from the click until the order was
 * done, known for the orders the run follows (all with --watch or in sync, else a sample), sent once
 * known, so often seconds after its `at`. Catalog: one product.list call. */
export const loadMeasuredEventSchema = z.object({
  type: z.literal("measured"),
  answers: z.array(z.object({ at: ms, ms })),
  done: z.array(z.object({ at: ms, ms })),
  catalog: z.array(z.object({ at: ms, ms })),
});

/** Why a run ended: its duration; a burst all answered or out of time; a signal; or the shelves were
 * empty (nothing left to buy: the run stops rather than measure refusals). */
export const LOAD_STOPS = ["duration", "burst-answered", "burst-timeout", "signal", "out-of-stock"] as const;

export const loadSummaryEventSchema = z.object({
  type: z.literal("summary"),
  runId: z.string(),
  stoppedBy: z.enum(LOAD_STOPS),
  /** From the first checkout to the last answer (or the stop). */
  elapsedMs: ms,
  /** Checkout attempts begun. sent = answered + abandoned. */
  sent: z.number().int(),
  /** answered = placed + the sum of errors. */
  answered: z.number().int(),
  placed: z.number().int(),
  errors: z.partialRecord(loadErrorKindSchema, z.number().int().positive()),
  /** Attempts still waiting for an answer when the run was stopped (their outcome is unknown). */
  abandoned: z.number().int(),
  /** Open loop: arrivals not sent because as many checkouts as MAX_SHOPPERS were in flight. */
  dropped: z.number().int(),
  /** Repeats with the same idempotency key: after 503 BUSY (Retry-After) or 409 STILL_PROCESSING. */
  retries: z.object({ busy: z.number().int(), stillProcessing: z.number().int() }),
  /** Orders placed per second, from the first checkout to the last answer. */
  ordersPerSecond: z.number(),
  /** Orders done (every side effect finished) inside that same window, per second: below
   * ordersPerSecond, orders not done yet piled up. Null when the run did not follow every order it
   * placed (past the sample it polls, without --watch), or a summary from before it was counted. */
  donePerSecond: z.number().nullable().default(null),
  /** Time to answer of placed orders, from the first try (retries included). */
  answerMs: percentiles,
  /** Time to done of placed orders, from the click like the answer (so never below it): every watched
   * order, or a sample polled with `order.byId`; `unsettled` were not done when the run stopped. */
  doneMs: percentiles.extend({ measured: z.number().int(), unsettled: z.number().int() }),
  catalogMs: percentiles.extend({ calls: z.number().int() }),
  peakQueueDepth: queueDepth,
});

export const loadEventSchema = z.discriminatedUnion("type", [
  loadStartedEventSchema,
  loadProgressEventSchema,
  loadMeasuredEventSchema,
  loadSummaryEventSchema,
]);
export type LoadEvent = z.infer<typeof loadEventSchema>;
export type LoadStartedEvent = z.infer<typeof loadStartedEventSchema>;
export type LoadProgressEvent = z.infer<typeof loadProgressEventSchema>;
export type LoadMeasuredEvent = z.infer<typeof loadMeasuredEventSchema>;
export type LoadSummaryEvent = z.infer<typeof loadSummaryEventSchema>;

/** The p-th percentile of sorted values by nearest rank (null when there is nothing to rank): always
 * one of the values, never an interpolation. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? null;
}
