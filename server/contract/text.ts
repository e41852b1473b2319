// Text that people and programs send us (names, ids): never control characters. NUL cannot be stored
// in Postgres text at all, and none of them belongs in a name, so they are refused at the edge (400).
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
