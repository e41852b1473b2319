// A closed list of names (step names, statuses, error kinds), declared once: the names in their order,
// for loops and tables, and the zod enum that admits exactly them at the edges.
import { z } from "zod";

export function closedList<const Names extends readonly [string, ...string[]]>(names: Names) {
  return { names, schema: z.enum(names) };
}
