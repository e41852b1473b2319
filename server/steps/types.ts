// What a side-effect step gets to work with, and what it may answer.
import type { OrderView } from "../contract";

/** The order as the step's claim left it (see server/orders/run.ts). */
export type StepOrder = OrderView;

/** `detail` is a short human result; `reject` stops the order (only fraud screening may). */
export type StepOutcome = { detail: string } | { reject: string };
