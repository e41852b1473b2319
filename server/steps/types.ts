// What a side-effect step gets to work with, and what it may answer.
import type { Prisma } from "../generated/prisma/client";

export const stepOrderSelect = {
  id: true,
  mode: true,
  status: true,
  customerName: true,
  customerEmail: true,
  totalCents: true,
  items: { select: { name: true, quantity: true, unitPriceCents: true } },
} satisfies Prisma.OrderSelect;

export type StepOrder = Prisma.OrderGetPayload<{ select: typeof stepOrderSelect }>;

/** `detail` is a short human result; `reject` stops the order (only fraud screening may). */
export type StepOutcome = { detail: string } | { reject: string };
