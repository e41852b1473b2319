// The one flag reader of the tools (load, bench, chaos, cluster, check:invariants): node's parseArgs,
// strict (an unknown flag, a flag without its value or a stray word is refused), then a zod schema
// that turns the strings into the command's settings. Bad input is a FlagError in words; a command's
// main turns it into one line on stderr and exit code 2, before anything starts; --help prints the usage.
import { type ParseArgsConfig, parseArgs } from "node:util";
import type { z } from "zod";
import { describeIssues } from "../../server/contract";

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig["options"]>;

export class FlagError extends Error {
  override name = "FlagError";
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** parseArgs' table of a command's flags: those that take a value, the switches, and --help (every
 * command has it). */
export function flagTable<const Value extends string, const Switch extends string>(
  values: readonly Value[],
  switches: readonly Switch[],
) {
  const table: ParseArgsOptionsConfig = { help: { type: "boolean" } };
  for (const name of values) table[name] = { type: "string" };
  for (const name of switches) table[name] = { type: "boolean" };
  return table as { [Name in Value]: { type: "string" } } & {
    [Name in Switch | "help"]: { type: "boolean" };
  };
}

/** The flags as typed (strings and booleans), or a FlagError with node's own message. */
export function readArgs<const Options extends ParseArgsOptionsConfig>(args: string[], options: Options) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new FlagError(messageOf(error));
  }
}

/** The flags read and checked by `schema` (which sees them under their flag names), or a FlagError. */
export function parseFlags<Schema extends z.ZodType>(
  args: string[],
  options: ParseArgsOptionsConfig,
  schema: Schema,
): z.infer<Schema> {
  const parsed = schema.safeParse(readArgs(args, options));
  if (!parsed.success) throw new FlagError(describeIssues(parsed.error));
  return parsed.data;
}

/** Says why on stderr, named after the command, and exits 2. */
export function refuseAs(command: string): (message: string) => never {
  return (message) => {
    console.error(`${command}: ${message}`);
    process.exit(2);
  };
}

/** For a command's main: the checked flags of this process's command line; on bad input the reason
 * and exit 2, on --help the usage and exit 0. */
export function readCommandLine<Flags extends { help: boolean }>(
  command: string,
  options: ParseArgsOptionsConfig,
  schema: z.ZodType<Flags>,
  usage: string,
): Flags {
  // Annotated: a call through it ends the flow (TypeScript narrows on `never` only so).
  const refuse: (message: string) => never = refuseAs(command);
  let flags: Flags;
  try {
    flags = parseFlags(process.argv.slice(2), options, schema);
  } catch (error) {
    return refuse(`${messageOf(error)} (--help lists the flags)`);
  }
  if (flags.help) {
    console.info(usage);
    process.exit(0);
  }
  return flags;
}
