// The checkout-mode switch: async, sync or sync-parallel, with one line saying what the request will
// wait for, the fault preset in force, and a word when nothing is slow (then the modes look alike).
// The choice is remembered in localStorage and sent as `mode` with the next order.
// On an order's page the band describes that order instead: the mode it ran in and the knobs in force
// at its checkout, whatever they are now; the switch stays, for the next checkout.
"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { CHECKOUT_MODES, type OrderView, orderIdInput } from "@/server/contract";
import { MODES, nothingToWaitFor, setCheckoutMode, useCheckoutMode } from "../_lib/mode";
import { useTRPC } from "../_lib/trpc";
import { ActivePreset, OrderConditions } from "./ActivePreset";
import styles from "./ModeToggle.module.css";

/** The order whose page this is, if it is one. */
function useShownOrderId(): string | null {
  const orderId = /^\/orders\/([^/]+)$/.exec(usePathname() ?? "")?.[1] ?? null;
  return orderId && orderIdInput.safeParse({ orderId }).success ? orderId : null;
}

function OrderBand({ order }: { order: OrderView }) {
  return (
    <section className={styles.orderRow} aria-label="This order's conditions" data-testid="order-conditions">
      <span className={styles.modeCaption}>This order ran</span>
      <span className={styles.orderMode} data-mode={order.mode}>
        {MODES[order.mode].label}
      </span>
      <OrderConditions conditions={order.conditions} />
    </section>
  );
}

export function ModeToggle() {
  const mode = useCheckoutMode();
  const trpc = useTRPC();
  const orderId = useShownOrderId();
  // The page's own query (same key): the band shows nothing until the page has the order.
  const shown = useQuery({
    ...trpc.order.byId.queryOptions({ orderId: orderId ?? "" }),
    enabled: orderId !== null,
    retry: false,
  });
  const order = orderId ? shown.data : undefined;
  // Refreshed, so a scenario picked in another tab shows up here. No answer (developer tools off or
  // locked): nothing is said.
  const settings = useQuery({
    ...trpc.dev.settings.queryOptions(),
    retry: false,
    staleTime: 5_000,
    refetchInterval: 10_000,
  });
  const instant = settings.data ? nothingToWaitFor(settings.data.services) : false;
  return (
    <div className={styles.modeBand}>
      {order && (
        <div className={`container ${styles.orderBand}`}>
          <OrderBand order={order} />
        </div>
      )}
      <div className={`container ${styles.modeRow}`}>
        <span className={styles.modeCaption} aria-hidden="true">
          {order ? "Next checkout" : "Checkout mode"}
        </span>
        <fieldset className={styles.segmented}>
          <legend className="visually-hidden">Checkout mode</legend>
          {CHECKOUT_MODES.map((option) => (
            <label key={option} data-checked={option === mode}>
              <input
                type="radio"
                name="checkout-mode"
                value={option}
                checked={option === mode}
                onChange={() => setCheckoutMode(option)}
              />
              {MODES[option].label}
            </label>
          ))}
        </fieldset>
        {settings.data && !order && <ActivePreset services={settings.data.services} />}
        <p className={styles.modeExplainer} aria-live="polite">
          <strong>{MODES[mode].label}:</strong> {MODES[mode].explains}
        </p>
        {instant && (
          <p className={styles.modeInstant}>
            Right now every service answers instantly and nothing fails, so the three modes look alike.{" "}
            <Link href="/dev" prefetch={false}>
              Pick a slower scenario
            </Link>{" "}
            to feel the difference.
          </p>
        )}
      </div>
    </div>
  );
}
