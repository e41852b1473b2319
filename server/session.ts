// The shopper's session: a random id in an httpOnly cookie. Orders belong to the session that
// placed them; tRPC and socket.io both read it from the request's cookies.
import { randomUUID } from "node:crypto";

export const SESSION_COOKIE = "storefront_session";
const MAX_AGE_S = 60 * 60 * 24 * 30;
const SESSION_ID = /^[0-9a-f-]{36}$/;

export function readSession(cookieHeader: string | undefined): string | null {
  for (const part of cookieHeader?.split(";") ?? []) {
    const [name, value] = part.trim().split("=");
    if (name === SESSION_COOKIE && value && SESSION_ID.test(value)) return value;
  }
  return null;
}

export function newSession(): { id: string; cookie: string } {
  const id = randomUUID();
  return { id, cookie: `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${MAX_AGE_S}` };
}
