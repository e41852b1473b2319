// Text that people and programs send us (names, ids): never control characters, never ill-formed
// UTF-16. NUL cannot be stored in Postgres text at all, a lone surrogate cannot be stored as UTF-8, and
// neither belongs in a name, so they are refused at the edge (400).
import { z } from "zod";

/** What a JSON text stands for, or null when it is not JSON (a stray log line, a torn write): for a
 * schema's safeParse to refuse like any other wrong value. */
export function jsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

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

interface Visit {
  value: unknown;
  key: PropertyKey | null;
  parent: Visit | null;
}

function pathOf(visit: Visit): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (let at: Visit | null = visit; at?.key != null; at = at.parent) path.push(at.key);
  return path.reverse();
}

/**
 * Any value whose every string (object keys included) is well-formed UTF-16. What arrives at the edge
 * (every tRPC input, every socket payload) is checked with this once, before the fields' own rules, so
 * no field can forget it. Walks without recursion and builds a path only for the string it refuses: a
 * deeply nested body costs time in proportion to its size.
 */
export const wellFormedValue = z.unknown().superRefine((value, context) => {
  const pending: Visit[] = [{ value, key: null, parent: null }];
  for (let visit = pending.pop(); visit; visit = pending.pop()) {
    const { value: current } = visit;
    if (typeof current === "string") {
      if (LONE_SURROGATE.test(current)) {
        const path = pathOf(visit);
        context.addIssue({ code: "custom", path, message: `${describePath(path)} is not well-formed text` });
        return;
      }
    } else if (Array.isArray(current)) {
      for (const [index, entry] of current.entries())
        pending.push({ value: entry, key: index, parent: visit });
    } else if (current !== null && typeof current === "object") {
      for (const [key, entry] of Object.entries(current)) {
        pending.push({ value: key, key: `(key ${JSON.stringify(key)})`, parent: visit });
        pending.push({ value: entry, key, parent: visit });
      }
    }
  }
});

/** `schema`, for input that has not been through the tRPC edge (socket payloads): well-formed text first. */
export function wellFormed<T extends z.ZodType>(schema: T) {
  return wellFormedValue.pipe(schema);
}
