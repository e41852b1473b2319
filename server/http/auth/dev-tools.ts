// Who may use the developer tools. Without DEV_TOOLS_KEY they answer only requests from this machine
// (server/http/edge.ts `fromThisMachine`: not through a proxy). With it, a browser enters the key once in
// /dev and gets an httpOnly cookie holding a token derived from it (never the key itself); every dev
// procedure checks that cookie. The token carries the time it was issued, so tokens issued before
// DEV_TOOLS_NOT_BEFORE (a lost laptop's) are refused without changing the key. Comparisons take the same
// time whatever the input: no timing hints.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { config } from "../../config";
import { fromThisMachine, type RequestFacts } from "../edge";
import { cookie, readCookie } from "../session";

export const DEV_TOOLS_COOKIE = "storefront_dev_tools";
const MAX_AGE_S = 60 * 60 * 24 * 7;
/** How far ahead of this process's clock another web process's clock may be when it issues a token. */
const CLOCK_SKEW_S = 60;
const TOKEN = /^(\d{1,12})\.([\w-]{43})$/;

export type DevToolsAccess = "off" | "open" | "locked" | "unlocked";

export function sameBytes(a: string, b: string): boolean {
  // Hash first: equal lengths for timingSafeEqual, and the key's length does not leak either.
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function mac(key: string, issuedAtS: number): string {
  return createHmac("sha256", key).update(`storefront developer tools|${issuedAtS}`).digest("base64url");
}

/** The cookie's token for a browser unlocked at `issuedAtMs`: `<issued at, s>.<HMAC of it under the key>`. */
export function devToolsToken(key: string, issuedAtMs: number): string {
  const issuedAtS = Math.floor(issuedAtMs / 1000);
  return `${issuedAtS}.${mac(key, issuedAtS)}`;
}

/** A token made with the key, not expired, not from the future, and not issued before DEV_TOOLS_NOT_BEFORE. */
function validToken(token: string, key: string, nowMs: number): boolean {
  const [, issued = "", given = ""] = TOKEN.exec(token) ?? [];
  const issuedAtS = Number(issued);
  if (!issued || !sameBytes(given, mac(key, issuedAtS))) return false;
  const nowS = nowMs / 1000;
  const notBeforeS = (config.DEV_TOOLS_NOT_BEFORE?.getTime() ?? 0) / 1000;
  return (
    issuedAtS <= nowS + CLOCK_SKEW_S && nowS - issuedAtS <= MAX_AGE_S && issuedAtS >= Math.floor(notBeforeS)
  );
}

/** What this request may do with the developer tools. */
export function devToolsAccess(req: RequestFacts): DevToolsAccess {
  if (config.DEV_TOOLS !== "on") return "off";
  const key = config.DEV_TOOLS_KEY;
  if (!key) return fromThisMachine(req) ? "open" : "locked";
  const token = readCookie(req.headers.cookie, DEV_TOOLS_COOKIE);
  return token !== null && validToken(token, key, Date.now()) ? "unlocked" : "locked";
}

/** A caller inside this process (tests, scripts): trusted like this machine. */
export function inProcessAccess(): DevToolsAccess {
  return config.DEV_TOOLS === "on" ? "open" : "off";
}

/** What a locked caller is told: how to get in, or why there is no way in from where it stands. */
export function lockedMessage(): string {
  return config.DEV_TOOLS_KEY
    ? "Developer tools are locked: enter the key in the developer console."
    : "Developer tools answer only this machine: this request came through a proxy or from elsewhere, " +
        "and the shop has no DEV_TOOLS_KEY to unlock them with.";
}

/** The cookie that unlocks the developer tools, if `given` is the key; null otherwise. */
export function unlockCookie(given: string, { secure }: { secure: boolean }): string | null {
  const key = config.DEV_TOOLS_KEY;
  if (!key || !sameBytes(given, key)) return null;
  return cookie(DEV_TOOLS_COOKIE, devToolsToken(key, Date.now()), {
    maxAgeS: MAX_AGE_S,
    secure,
    sameSite: "strict",
  });
}
