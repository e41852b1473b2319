// Text that people and programs send us (names, ids): never control characters, never ill-formed
// UTF-16. NUL cannot be stored in Postgres text at all, a lone surrogate cannot be stored as UTF-8, and
// neither belongs in a name, so they are refused at the edge (400).
import { z } from "zod";

/** C0 controls (NUL, ESC, newline…), DEL, and the C1 controls. */
export function hasControlCharacter(text: string): boolean {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return true;
  }
  return false;
}

/** A string without control characters; `field` names it in the message. */
export function plainText(field: string) {
  return z
    .string()
    .refine((text) => !hasControlCharacter(text), `${field} must not contain control characters`);
}

/** Half of a UTF-16 surrogate pair on its own: not a character, so it cannot be stored as UTF-8 (Postgres
 * refuses it in JSON, and text columns would keep U+FFFD instead). With the `u` flag a well-formed pair
 * is one code point and does not match. */
const LONE_SURROGATE = /\p{Surrogate}/u;

function describePath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? "the input" : path.map(String).join(".");
}

/**
 * Any value whose every string (object keys included) is well-formed UTF-16. What arrives at the edge
 * (every tRPC input, every socket payload) is checked with this once, before the fields' own rules, so
 * no field can forget it. Walks without recursion: a deeply nested body cannot overflow the stack.
 */
export const wellFormedValue = z.unknown().superRefine((value, context) => {
  const pending: { value: unknown; path: PropertyKey[] }[] = [{ value, path: [] }];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const { value: current, path } = item;
    if (typeof current === "string") {
      if (LONE_SURROGATE.test(current)) {
        context.addIssue({ code: "custom", path, message: `${describePath(path)} is not well-formed text` });
        return;
      }
    } else if (Array.isArray(current)) {
      current.forEach((entry, index) => pending.push({ value: entry, path: [...path, index] }));
    } else if (current !== null && typeof current === "object") {
      for (const [key, entry] of Object.entries(current)) {
        pending.push({ value: key, path: [...path, `(key ${JSON.stringify(key)})`] });
        pending.push({ value: entry, path: [...path, key] });
      }
    }
  }
});

/** `schema`, for input that has not been through the tRPC edge (socket payloads): well-formed text first. */
export function wellFormed<T extends z.ZodType>(schema: T) {
  return wellFormedValue.pipe(schema);
}
