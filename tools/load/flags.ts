// The command line of `npm run load`, read into the settings the contract checks (loadSettingsSchema):
// the flags' names are the request's names, plus `--target` and `--allow-remote` (as `allowRemote`).
import type { LoadRequest } from "../../server/contract";
import { flagTable, readArgs } from "../lib/flags";

const FLAGS = flagTable(
  ["shoppers", "pause", "duration", "mode", "rate", "burst", "preset", "fraud", "target", "dev-key"],
  ["watch", "allow-remote", "restock", "json"],
);

export interface CommandLine {
  /** Unchecked: everything but the target's default, as typed. */
  settings: { request: Record<keyof LoadRequest, unknown>; target: string | undefined; allowRemote: unknown };
  devKey: string | undefined;
  /** Top the catalog up before the run (not a setting of the run: the panel restocks by itself). */
  restock: boolean;
  json: boolean;
  help: boolean;
}

/** Throws a FlagError (node's own message) on an unknown flag or a flag without its value. */
export function readFlags(args: string[]): CommandLine {
  const values = readArgs(args, FLAGS);
  return {
    settings: {
      request: {
        shoppers: values.shoppers,
        pause: values.pause,
        duration: values.duration,
        mode: values.mode,
        rate: values.rate,
        burst: values.burst,
        preset: values.preset,
        watch: values.watch,
        fraud: values.fraud,
      },
      target: values.target,
      allowRemote: values["allow-remote"],
    },
    devKey: values["dev-key"],
    restock: values.restock === true,
    json: values.json === true,
    help: values.help === true,
  };
}
