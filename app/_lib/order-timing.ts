// The numbers that tell sync from async apart, defined once for every page that shows them (the order
// page, the comparison table and chart): how long the shopper waited, how long until everything was
// done, and the medians per checkout mode, which only completed orders count towards.
import {
  CHECKOUT_MODES,
  type CheckoutMode,
  ORDER_STATUSES,
  type OrderStatus,
  type OrderView,
} from "@/server/contract";
import { msBetween } from "./format";

/** How long the Purchase request kept the shopper waiting (null: never confirmed). */
export function timeToConfirmation(order: OrderView): number | null {
  return order.confirmedAt ? msBetween(order.createdAt, order.confirmedAt) : null;
}

/** How long until the last step finished (null: still in progress). */
export function timeToDone(order: OrderView): number | null {
  return order.settledAt ? msBetween(order.createdAt, order.settledAt) : null;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? 0;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? upper) + upper) / 2;
}

/** The medians only count completed orders: a failed or cancelled checkout stops early, and an order
 * still under way has no "done" yet. Mixing them in would make a mode look faster than it is. */
export const MEDIAN_STATUS: OrderStatus = "completed";

export interface ModeSummary {
  mode: CheckoutMode;
  /** Orders of this mode, of any status. */
  total: number;
  /** The completed ones: both medians are taken over exactly these. */
  completed: number;
  /** The rest, by status, in the contract's order: shown beside the medians, never in them. */
  leftOut: { status: OrderStatus; count: number }[];
  confirmation: number | null;
  done: number | null;
}

/** One summary per checkout mode that has orders, in the contract's order of modes. */
export function summarizeModes(orders: readonly OrderView[]): ModeSummary[] {
  return CHECKOUT_MODES.flatMap((mode) => {
    const ofMode = orders.filter((order) => order.mode === mode);
    if (ofMode.length === 0) return [];
    const completed = ofMode.filter((order) => order.status === MEDIAN_STATUS);
    const leftOut = ORDER_STATUSES.filter((status) => status !== MEDIAN_STATUS).flatMap((status) => {
      const count = ofMode.filter((order) => order.status === status).length;
      return count > 0 ? [{ status, count }] : [];
    });
    return [
      {
        mode,
        total: ofMode.length,
        completed: completed.length,
        leftOut,
        confirmation: median(completed.flatMap((order) => timeToConfirmation(order) ?? [])),
        done: median(completed.flatMap((order) => timeToDone(order) ?? [])),
      },
    ];
  });
}

const TICK_STEPS_MS = [
  10, 20, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 15_000, 30_000, 60_000,
];

/** Round axis ticks from 0 to at least `spanMs`, at most `maxTicks` intervals. */
export function niceTicks(spanMs: number, maxTicks = 6): number[] {
  const step =
    TICK_STEPS_MS.find((candidate) => spanMs / candidate <= maxTicks) ??
    Math.ceil(spanMs / maxTicks / 60_000) * 60_000;
  const count = Math.max(1, Math.ceil(spanMs / step));
  return Array.from({ length: count + 1 }, (_, index) => index * step);
}
