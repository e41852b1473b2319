// The web tier's request slots, the knob of the "threads pile up" experiment. Off by default: Node
// serves any number of requests at once on one thread, each waiting on I/O without holding anything.
// Switched on in /dev (settings.shop.requestSlots), every request holds one slot from its arrival until
// its answer is sent, like a worker thread of a thread-per-request server (Tomcat, Puma, PHP-FPM); when
// all are taken, the next requests wait in line up to REQUEST_SLOT_WAIT_MS and are then refused (503).
// A synchronous checkout holds its slot for every side effect it waits for, so a slow provider fills
// the pool and browsing the catalog slows down for everyone: temporal coupling as a platform incident.
import type { IncomingMessage, ServerResponse } from "node:http";
import { REQUEST_SLOT_WAIT_MS } from "../contract";
import { getSettings } from "../downstream/settings";
import { metrics } from "../metrics/registry";
import { Slots } from "../semaphore";

/** How often the knob is re-read: a change applies within this long, and no request waits on Redis. */
const REFRESH_MS = 500;

let limit = 0;
export const requestSlots = new Slots(
  () => (limit === 0 ? Number.POSITIVE_INFINITY : limit),
  () => REQUEST_SLOT_WAIT_MS,
);

/** Requests that never take a slot: the developer tools (the door must stay open to turn the knob back),
 * metrics and health probes, and static assets (a CDN's job in a real deployment). */
const EXEMPT = /^\/(?:dev|mailbox|metrics|api\/health|_next\/static)(?:\/|$)/;
const API_CALLS = /^\/api\/trpc\/(.*)$/;
/** Requests that arrived when no slot came free in time. */
const refused = new WeakSet<IncomingMessage>();

export function takesRequestSlot(url: string): boolean {
  const path = resolvedPath(url);
  if (path === null) return true;
  if (EXEMPT.test(path)) return false;
  const calls = API_CALLS.exec(path)?.[1];
  // A tRPC path names its procedures, comma-separated when batched: dev.* calls are the tools.
  return !calls?.split(",").every((call) => call.startsWith("dev."));
}

/** The path as the handlers will see it: dot segments resolved and percent-escapes decoded (tRPC
 * decodes before it splits a batch, so `dev.x%2Corder.place` is two calls), or null if it cannot be
 * read. Judged on the raw text, `/api/trpc/dev.settings/../order.place` would pass as a tool. */
function resolvedPath(url: string): string | null {
  try {
    const decoded = decodeURIComponent(new URL(url, "http://local").pathname);
    return new URL(decoded, "http://local").pathname;
  } catch {
    return null;
  }
}

/**
 * Lets a request in, holding a slot until its answer is sent (or its connection drops) if it needs one.
 * "go": serve it. "busy": no slot came free in time; the API answers it "busy" in its own shape
 * (createContext reads wasRefused), any other request must be answered by the caller. "gone": the
 * client left while it waited (it left the line; there is nobody to answer).
 */
export async function admitRequest(
  req: IncomingMessage,
  res: ServerResponse,
): Promise<"go" | "busy" | "gone"> {
  if (!takesRequestSlot(req.url ?? "/")) return "go";
  const left = new AbortController();
  const leave = () => left.abort();
  res.once("close", leave);
  const acquiring = requestSlots.acquire(left.signal);
  metrics.requestSlotsWaiting.set(requestSlots.waiting);
  const admitted = await acquiring;
  metrics.requestSlotsWaiting.set(requestSlots.waiting);
  res.off("close", leave);
  if (left.signal.aborted || res.closed) {
    if (admitted) requestSlots.release();
    return "gone";
  }
  if (!admitted) {
    metrics.requestsRefused.inc({ reason: "slot_wait_timeout" });
    refused.add(req);
    return "busy";
  }
  metrics.requestSlotsInUse.set(requestSlots.inUse);
  res.once("close", () => {
    requestSlots.release();
    metrics.requestSlotsInUse.set(requestSlots.inUse);
  });
  return "go";
}

/** The current limit (0: none). */
export function requestSlotLimit(): number {
  return limit;
}

/** Reads the knob now and then; stop it with the returned function. */
export function followRequestSlotKnob(): () => void {
  const refresh = async () => {
    limit = (await getSettings()).shop.requestSlots;
    metrics.requestSlotsLimit.set(limit);
    requestSlots.admitWaiting();
  };
  void refresh();
  const timer = setInterval(() => void refresh(), REFRESH_MS);
  timer.unref();
  return () => clearInterval(timer);
}

export function wasRefused(req: IncomingMessage): boolean {
  return refused.has(req);
}
