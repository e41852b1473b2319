// The shopper's session: a random id in an httpOnly cookie. Orders belong to the session that
// placed them; tRPC and socket.io both read it from the request's cookies. Cookies carry `Secure` when
// the browser reached the shop over HTTPS, so they never travel back over plain HTTP. Reading and
// writing cookie headers is the `cookie` package's (quoting, encoding, attributes).
import { randomUUID } from "node:crypto";
import { parseCookie, stringifySetCookie } from "cookie";

export const SESSION_COOKIE = "storefront_session";
const MAX_AGE_S = 60 * 60 * 24 * 30;
const SESSION_ID = /^[0-9a-f-]{36}$/;

/** The value of one cookie in a Cookie header, or null. */
export function readCookie(cookieHeader: string | undefined, name: string): string | null {
  return (cookieHeader && parseCookie(cookieHeader)[name]) || null;
}

/** A Set-Cookie value the browser keeps away from scripts and from other sites' forms. */
export function cookie(
  name: string,
  value: string,
  { maxAgeS, secure, sameSite = "lax" }: { maxAgeS: number; secure: boolean; sameSite?: "lax" | "strict" },
): string {
  return stringifySetCookie({ name, value, path: "/", httpOnly: true, sameSite, maxAge: maxAgeS, secure });
}

export function readSession(cookieHeader: string | undefined): string | null {
  const value = readCookie(cookieHeader, SESSION_COOKIE);
  return value && SESSION_ID.test(value) ? value : null;
}

export function newSession({ secure }: { secure: boolean }): { id: string; cookie: string } {
  const id = randomUUID();
  return { id, cookie: cookie(SESSION_COOKIE, id, { maxAgeS: MAX_AGE_S, secure }) };
}
