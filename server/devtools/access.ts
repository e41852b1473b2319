// Who may use the developer tools. With DEV_TOOLS_KEY set, a browser enters the key once in /dev and
// gets an httpOnly cookie holding a token derived from it (never the key itself); every dev procedure
// checks that cookie. Both comparisons take the same time whatever the input: no timing hints.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { config } from "../config";
import { cookie, readCookie } from "../session";

export const DEV_TOOLS_COOKIE = "storefront_dev_tools";
const MAX_AGE_S = 60 * 60 * 24 * 7;

export type DevToolsAccess = "off" | "open" | "locked" | "unlocked";

function sameBytes(a: string, b: string): boolean {
  // Hash first: equal lengths for timingSafeEqual, and the key's length does not leak either.
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function tokenFor(key: string): string {
  return createHmac("sha256", key).update("storefront developer tools").digest("base64url");
}

/** What this caller may do with the developer tools, judged from its Cookie header. */
export function devToolsAccess(cookieHeader: string | undefined): DevToolsAccess {
  if (config.DEV_TOOLS !== "on") return "off";
  const key = config.DEV_TOOLS_KEY;
  if (!key) return "open";
  const token = readCookie(cookieHeader, DEV_TOOLS_COOKIE);
  return token !== null && sameBytes(token, tokenFor(key)) ? "unlocked" : "locked";
}

/** The cookie that unlocks the developer tools, if `given` is the key; null otherwise. */
export function unlockCookie(given: string, { secure }: { secure: boolean }): string | null {
  const key = config.DEV_TOOLS_KEY;
  if (!key || !sameBytes(given, key)) return null;
  return cookie(DEV_TOOLS_COOKIE, tokenFor(key), { maxAgeS: MAX_AGE_S, secure, sameSite: "Strict" });
}
