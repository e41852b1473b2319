// Checkout: who is buying, what, and the Purchase button. The server is the authority on everything
// (stock, totals, validation); this page validates for comfort, shows the server's words when it
// refuses, and makes a double click or a retry harmless with one idempotency key per checkout.
"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useEffect, useRef, useState } from "react";
import { z } from "zod";
import { type CheckoutMode, type OrderView, placeOrderInput } from "@/server/contract";
import { clearCart } from "../_lib/cart";
import { formatPrice, sentence } from "../_lib/format";
import { forgetIdempotencyKey, idempotencyKeyFor } from "../_lib/idempotency";
import { refusedAtCheckout } from "../_lib/labels";
import { MODES, useCheckoutMode } from "../_lib/mode";
import { connectOrderSocket, newerOrder, watchCheckout } from "../_lib/realtime";
import { type ApiProblem, describeProblem, useTRPC } from "../_lib/trpc";
import { useCartLines } from "../_lib/useCartLines";
import { CheckoutProgress } from "./CheckoutProgress";
import { ProblemNotice } from "./ProblemNotice";
import { TextField } from "./TextField";

/** The form's fields, in the order they appear. */
const FIELDS = ["name", "email"] as const;
type Field = (typeof FIELDS)[number];
type FieldErrors = Partial<Record<Field, string>>;

const customerSchema = placeOrderInput.shape.customer;

/** The server's zod issues, put next to the field they are about when we can tell which one. */
function serverFieldErrors(problem: ApiProblem): { fields: FieldErrors; other: string[] } {
  const fields: FieldErrors = {};
  const other = [...problem.formErrors];
  for (const [key, messages] of Object.entries(problem.fieldErrors)) {
    for (const message of messages ?? []) {
      const field = FIELDS.find((candidate) => message.startsWith(candidate));
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

interface Watching {
  mode: CheckoutMode;
  startedAt: number;
  order: OrderView | null;
  live: boolean;
}

export function CheckoutView() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const router = useRouter();
  const mode = useCheckoutMode();
  const { products, lines, totalCents } = useCartLines({ liveStock: false });
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
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
  const busy = place.isPending || watching !== null || placed;

  useEffect(() => {
    if (!focusFirstError || busy) return;
    const first = FIELDS.find((field) => fieldErrors[field]);
    if (first) inputs[first].current?.focus();
    setFocusFirstError(false);
  });

  /** Typing in a field clears its error; the next Purchase validates again. */
  const edit = (field: Field, set: (value: string) => void) => (value: string) => {
    set(value);
    setFieldErrors((current) => ({ ...current, [field]: undefined }));
  };

  async function purchase(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (submitting.current) return;
    const customer = customerSchema.safeParse({ name, email });
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
    setFieldErrors({});
    setProblem(null);
    setRejected(false);

    const request = {
      items: lines.map((line) => ({ productId: line.productId, quantity: line.quantity })),
      customer: customer.data,
      mode,
    };
    const idempotencyKey = idempotencyKeyFor(request);
    setWatching({ mode, startedAt: Date.now(), order: null, live: true });

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
      forgetIdempotencyKey();
      queryClient.setQueryData(trpc.order.byId.queryKey({ orderId: order.id }), order);
      if (refusedAtCheckout(order)) {
        // A checkout that waited for fraud screening heard its "no" before answering: the shopper is
        // told here, as for any other refused checkout, and the cart stays as it was.
        setProblem(rejection(order));
        setRejected(true);
        setWatching(null);
        submitting.current = false;
        return;
      }
      setPlaced(true);
      clearCart();
      router.push(`/orders/${order.id}`);
    } catch (error) {
      const described = describeProblem(error);
      void queryClient.invalidateQueries(trpc.product.list.queryFilter());
      // No answer: the order may exist, so the retry must carry the same key. Any answer is final.
      if (!described.noAnswer) forgetIdempotencyKey();
      const { fields, other } = serverFieldErrors(described);
      setFieldErrors(fields);
      setFocusFirstError(true);
      setProblem({ ...described, formErrors: other });
      setWatching(null);
      submitting.current = false;
    } finally {
      socket.disconnect();
    }
  }

  if (placed) {
    return (
      <p className="notice" role="status">
        Order placed. Taking you to it…
      </p>
    );
  }
  if (lines.length === 0) {
    return (
      <div className="empty-state card">
        <h2>Your cart is empty</h2>
        <p>Add something to your cart before checking out.</p>
        <Link href="/" className="button button-primary">
          Browse the shop
        </Link>
      </div>
    );
  }

  return (
    <div className="checkout-layout">
      <div className="checkout-main">
        {watching && (
          <CheckoutProgress
            mode={watching.mode}
            startedAt={watching.startedAt}
            order={watching.order}
            live={watching.live}
          />
        )}
        <form className="card form" onSubmit={purchase} noValidate aria-label="Checkout">
          <h2>Your details</h2>
          <TextField
            ref={inputs.name}
            required
            name="name"
            label="Name"
            autoComplete="name"
            value={name}
            disabled={busy}
            error={fieldErrors.name}
            onChange={edit("name", setName)}
          />
          <TextField
            ref={inputs.email}
            required
            name="email"
            label="Email"
            type="email"
            autoComplete="email"
            value={email}
            disabled={busy}
            error={fieldErrors.email}
            hint="For the receipt. It is sent by a side-effect step, exactly once."
            onChange={edit("email", setEmail)}
          />
          <p className="checkout-mode-note">
            Checkout mode: <strong>{MODES[mode].label}</strong>
            <span className="muted"> (change it in the bar at the top)</span>
          </p>
          {problem && <ProblemNotice problem={problem} mode={mode} rejected={rejected} />}
          <button type="submit" className="button button-primary button-large" disabled={busy}>
            {busy ? "Purchasing…" : `Purchase · ${formatPrice(totalCents)}`}
          </button>
          <p className="hint">Nothing is really charged in this demonstration shop.</p>
        </form>
      </div>
      <aside className="summary card" aria-label="Order summary">
        <h2>Order summary</h2>
        {products.isPending ? (
          <p className="muted">Loading…</p>
        ) : (
          <ul className="summary-lines">
            {lines.map((line) => (
              <li key={line.productId}>
                <span>
                  {line.product?.name ?? "Unavailable product"}{" "}
                  <span className="muted">× {line.quantity}</span>
                </span>
                <span>{formatPrice((line.product?.priceCents ?? 0) * line.quantity)}</span>
              </li>
            ))}
          </ul>
        )}
        <dl className="summary-rows">
          <div>
            <dt>Shipping</dt>
            <dd>Free</dd>
          </div>
          <div className="summary-total">
            <dt>Total</dt>
            <dd>{formatPrice(totalCents)}</dd>
          </div>
        </dl>
        <Link href="/cart" className="link-button">
          Edit cart
        </Link>
      </aside>
    </div>
  );
}
