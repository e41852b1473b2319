// What the developer pages (console, mailbox, comparison view) share: the dev API's answer types and
// how a moment in time is written.
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/root";

type Outputs = inferRouterOutputs<AppRouter>;
export type QueueSummary = Outputs["dev"]["queues"][number];
export type DeadLetter = Outputs["dev"]["deadLetters"][number];
export type MailboxEmail = Outputs["dev"]["mailbox"][number];

const clock = new Intl.DateTimeFormat("en-US", { hour: "numeric", minute: "2-digit", second: "2-digit" });
const day = new Intl.DateTimeFormat("en-US", { month: "short", day: "numeric" });

/** "3:04:05 PM" today, "Mar 2, 3:04:05 PM" on another day. */
export function formatClock(iso: string, now = Date.now()): string {
  const date = new Date(iso);
  const sameDay = new Date(now).toDateString() === date.toDateString();
  return sameDay ? clock.format(date) : `${day.format(date)}, ${clock.format(date)}`;
}
