// The Purchase button's behaviour, apart from how the checkout looks: keep the shopper's details and
// validate them for comfort, place the order under one idempotency key per checkout (so a double click
// or a retry is harmless), watch its steps live while the request waits, and turn a refusal into words
// next to the field it is about, with focus on the first field to fix; a checkout that failed keeps its
// steps on screen, as they ended. A page reloaded mid-checkout resumes it from the key it kept (see
// useResumedCheckout), with the details it was sent with back in the form. The server stays the
// authority on everything.
"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { z } from "zod";
import { type CheckoutMode, type OrderView, placeOrderInput } from "@/server/contract";
import { clearCart } from "./cart";
import { sentence } from "./format";
import { forgetIdempotencyKey, idempotencyKeyFor } from "./idempotency";
import { refusedAtCheckout } from "./labels";
import { useCheckoutMode } from "./mode";
import { connectOrderSocket, newerOrder, watchCheckout } from "./realtime";
import { type ApiProblem, describeProblem, useTRPC } from "./trpc";
import type { JoinedLine } from "./useCartLines";
import { useResumedCheckout } from "./useResumedCheckout";

/** The form's fields, in the order they appear. */
export const CHECKOUT_FIELDS = ["name", "email"] as const;
export type CheckoutField = (typeof CHECKOUT_FIELDS)[number];
type FieldErrors = Partial<Record<CheckoutField, string>>;
type CheckoutDetails = Record<CheckoutField, string>;

const customerSchema = placeOrderInput.shape.customer;

/** The server's zod issues, put next to the field they are about when we can tell which one. */
function serverFieldErrors(problem: ApiProblem): { fields: FieldErrors; other: string[] } {
  const fields: FieldErrors = {};
  const other = [...problem.formErrors];
  for (const [key, messages] of Object.entries(problem.fieldErrors)) {
    for (const message of messages ?? []) {
      const field = CHECKOUT_FIELDS.find((candidate) => message.startsWith(candidate));
      if (key === "customer" && field && !fields[field]) fields[field] = sentence(message);
      else other.push(`${key}: ${message}`);
    }
  }
  return { fields, other };
}

/** A checkout that ended with a cancelled order (fraud screening said no while the request waited). */
function rejection(order: OrderView): ApiProblem {
  return {
    message: `${order.failureReason ?? "Fraud screening rejected the order"}. Nothing was charged and the stock went back on the shelf.`,
    appCode: null,
    orderId: order.id,
    fieldErrors: {},
    formErrors: [],
    noAnswer: false,
    notFound: false,
  };
}

/** A checkout refused while the page was away (reloaded mid-checkout): the order's own reason. */
function refusal(order: OrderView): ApiProblem {
  return {
    message: order.failureReason ?? "The checkout could not finish.",
    appCode: "DEPENDENCY_FAILED",
    orderId: order.id,
    fieldErrors: {},
    formErrors: [],
    noAnswer: false,
    notFound: false,
  };
}

/** A checkout under way (or just ended without an order), as its progress card shows it. */
export interface Watching {
  mode: CheckoutMode;
  startedAt: number;
  order: OrderView | null;
  /** False when the live connection could not watch this checkout: the steps are unknown until it answers. */
  live: boolean;
  /** When the checkout answered with a refusal: the card stays, its clock stopped there, with the steps
   * as they ended. */
  endedAt: number | null;
  /** Picked up after a reload by the key this tab kept, not started by this page. */
  resumed?: boolean;
}

/** A refused checkout's card: its clock stopped, its steps as the server left them (the order's final
 * view, fetched once the answer came, carries the compensation too). */
function ended(current: Watching | null): Watching | null {
  return current && { ...current, live: false, endedAt: Date.now() };
}

export function usePurchase(lines: readonly JoinedLine[]) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const mode = useCheckoutMode();
  const [details, setDetails] = useState<CheckoutDetails>({ name: "", email: "" });
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  /** The problem is fraud screening's verdict, not a failure. */
  const [rejected, setRejected] = useState(false);
  const [watching, setWatching] = useState<Watching | null>(null);
  const [placed, setPlaced] = useState(false);
  const submitting = useRef(false);
  const inputs = { name: useRef<HTMLInputElement>(null), email: useRef<HTMLInputElement>(null) };
  /** Set when errors are shown: focus goes to the first field to fix, once it can take focus. */
  const [focusFirstError, setFocusFirstError] = useState(false);
  const place = useMutation(trpc.order.place.mutationOptions());
  const busy = place.isPending || (watching !== null && watching.endedAt === null) || placed;

  /** The order is placed: the cart is emptied and the shopper taken to it. */
  const goToOrder = (order: OrderView) => {
    forgetIdempotencyKey();
    queryClient.setQueryData(trpc.order.byId.queryKey({ orderId: order.id }), order);
    setPlaced(true);
    clearCart();
    router.push(`/orders/${order.id}`);
  };

  /** The final view of a refused checkout's order, for its card. */
  const showFinal = (orderId: string) => {
    void queryClient
      .fetchQuery(trpc.order.byId.queryOptions({ orderId }))
      .then((order) => setWatching((current) => current && { ...current, order }))
      .catch(() => {});
  };

  const resumed = useResumedCheckout(!busy && !submitting.current);
  /** The resumed order's version last acted on: every render looks, each change is acted on once. */
  const resumedSeen = useRef<string | null>(null);
  useEffect(() => {
    const order = resumed.order;
    if (!order || submitting.current) return;
    const seen = `${order.id}@${order.version}`;
    if (resumedSeen.current === seen) return;
    resumedSeen.current = seen;
    if (resumed.state === "placed") {
      resumed.dismiss();
      goToOrder(order);
      return;
    }
    // The details it was sent with, not an empty form: shown while it is confirmed (the form is busy),
    // and there to send again if it was refused.
    setDetails({ name: order.customer.name, email: order.customer.email });
    const startedAt = Date.parse(order.createdAt);
    if (resumed.state === "placing") {
      setWatching({ mode: order.mode, startedAt, order, live: true, endedAt: null, resumed: true });
      return;
    }
    // Refused while the page was away: its story, as for a refusal seen live.
    resumed.dismiss();
    forgetIdempotencyKey();
    const rejectedHere = order.status === "cancelled";
    setProblem(rejectedHere ? rejection(order) : refusal(order));
    setRejected(rejectedHere);
    setWatching((current) => ({
      mode: order.mode,
      startedAt,
      order,
      live: false,
      endedAt: current?.endedAt ?? Date.now(),
      resumed: true,
    }));
  });

  useEffect(() => {
    if (!focusFirstError || busy) return;
    const first = CHECKOUT_FIELDS.find((field) => fieldErrors[field]);
    if (first) inputs[first].current?.focus();
    setFocusFirstError(false);
  });

  /** A field's input, wired: its value, its error, its ref (for focus), disabled while a purchase is
   * under way. Editing it clears its error; the next Purchase validates again. */
  const field = (name: CheckoutField) => ({
    name,
    ref: inputs[name],
    value: details[name],
    error: fieldErrors[name],
    disabled: busy,
    onChange: (value: string) => {
      setDetails((current) => ({ ...current, [name]: value }));
      setFieldErrors((current) => ({ ...current, [name]: undefined }));
    },
  });

  async function purchase() {
    if (submitting.current) return;
    const customer = customerSchema.safeParse(details);
    if (!customer.success) {
      const issues = z.flattenError(customer.error).fieldErrors;
      setFieldErrors({
        name: issues.name?.[0] && sentence(issues.name[0]),
        email: issues.email?.[0] && sentence(issues.email[0]),
      });
      setFocusFirstError(true);
      return;
    }
    submitting.current = true;
    resumed.dismiss();
    setFieldErrors({});
    setProblem(null);
    setRejected(false);

    const request = {
      items: lines.map((line) => ({ productId: line.productId, quantity: line.quantity })),
      customer: customer.data,
      mode,
    };
    const idempotencyKey = idempotencyKeyFor(request);
    setWatching({ mode, startedAt: Date.now(), order: null, live: true, endedAt: null });

    // Ask for the checkout, and watch it by its key as soon as the server has started it: every push
    // and the snapshot the watch answers with carry all steps so far, so not a single step goes unseen.
    const socket = connectOrderSocket();
    socket.on("order:updated", (payload) => {
      setWatching((current) => current && { ...current, order: newerOrder(payload, current.order) ?? null });
    });
    const placing = place.mutateAsync({ ...request, idempotencyKey });
    void watchCheckout(socket, idempotencyKey, placing).then((ack) => {
      if (!ack) return;
      setWatching(
        (current) =>
          current && {
            ...current,
            live: ack.ok,
            order: ack.ok ? (newerOrder(ack.order, current.order) ?? null) : current.order,
          },
      );
    });

    try {
      const order = await placing;
      void queryClient.invalidateQueries(trpc.product.list.queryFilter());
      if (refusedAtCheckout(order)) {
        // A checkout that waited for fraud screening heard its "no" before answering: the shopper is
        // told here, as for any other refused checkout, and the cart stays as it was.
        forgetIdempotencyKey();
        queryClient.setQueryData(trpc.order.byId.queryKey({ orderId: order.id }), order);
        setProblem(rejection(order));
        setRejected(true);
        setWatching((current) => {
          const stopped = ended(current);
          return stopped && { ...stopped, order };
        });
        submitting.current = false;
        return;
      }
      goToOrder(order);
    } catch (error) {
      const described = describeProblem(error);
      void queryClient.invalidateQueries(trpc.product.list.queryFilter());
      // No answer: the order may exist, so the retry must carry the same key. Any answer is final.
      if (!described.noAnswer) forgetIdempotencyKey();
      const { fields, other } = serverFieldErrors(described);
      setFieldErrors(fields);
      setFocusFirstError(true);
      setProblem({ ...described, formErrors: other });
      // A checkout that failed after it had started keeps its steps on screen, as they ended.
      if (described.orderId) {
        setWatching(ended);
        showFinal(described.orderId);
      } else {
        setWatching(null);
      }
      submitting.current = false;
    } finally {
      socket.disconnect();
    }
  }

  return { mode, field, purchase, busy, placed, watching, problem, rejected };
}
