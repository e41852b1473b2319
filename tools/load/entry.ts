// The one door from the shop into the tools (Biome lets server/ import nothing else of tools/): the
// web process's Rush hour run starts the load program, the same as `npm run load`, as a child; this
// names the program and writes its command line from a plan checked by the contract.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { durationFlag, type LoadPlan } from "../../server/contract";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const LOAD_PROGRAM = path.join(ROOT, "tools/load/main.ts");

/** The command-line flags for a plan (tools/load/flags.ts reads them back). */
export function loadFlags(plan: LoadPlan): string[] {
  const { arrivals } = plan;
  const flags =
    arrivals.loop === "closed"
      ? ["--shoppers", `${arrivals.shoppers}`, "--pause", durationFlag(arrivals.pauseMs)]
      : arrivals.loop === "rate"
        ? ["--rate", `${arrivals.perSecond}/s`]
        : ["--burst", `${arrivals.orders}`];
  flags.push("--duration", durationFlag(plan.durationMs), "--mode", plan.mode, "--target", plan.target);
  if (plan.preset) flags.push("--preset", plan.preset);
  if (plan.watch) flags.push("--watch");
  if (plan.fraudShare > 0) flags.push("--fraud", `${plan.fraudShare * 100}%`);
  if (plan.allowRemote) flags.push("--allow-remote");
  return flags;
}

/** How to start the load program for `plan`, printing JSON lines (the repository's root as its cwd). */
export function loadCommand(plan: LoadPlan): { command: string; args: string[]; cwd: string } {
  return {
    command: process.execPath,
    args: ["--import", "tsx", LOAD_PROGRAM, ...loadFlags(plan), "--json"],
    cwd: ROOT,
  };
}
