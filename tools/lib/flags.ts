// The command lines of the project's own scripts (chaos, check:invariants): flags read with node's
// parseArgs and checked by a zod schema. Bad input is one line on stderr and exit code 2, before
// anything starts; --help prints the usage.
import { type ParseArgsConfig, parseArgs } from "node:util";
import type { z } from "zod";
import { describeIssues } from "../../server/contract";

/** Says why on stderr, named after the command, and exits 2. */
export function refuseAs(command: string): (message: string) => never {
  return (message) => {
    console.error(`${command}: ${message}`);
    process.exit(2);
  };
}

export function readCommandLine<Flags extends { help: boolean }>(
  command: string,
  options: NonNullable<ParseArgsConfig["options"]>,
  schema: z.ZodType<Flags>,
  usage: string,
): Flags {
  // Annotated: a call through it ends the flow (TypeScript narrows on `never` only so).
  const refuse: (message: string) => never = refuseAs(command);
  let values: unknown;
  try {
    ({ values } = parseArgs({ args: process.argv.slice(2), options, strict: true, allowPositionals: false }));
  } catch (error) {
    refuse(`${error instanceof Error ? error.message : String(error)} (--help lists the flags)`);
  }
  const parsed = schema.safeParse(values);
  if (!parsed.success) refuse(describeIssues(parsed.error));
  if (parsed.data.help) {
    console.info(usage);
    process.exit(0);
  }
  return parsed.data;
}
