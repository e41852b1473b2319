// `npm run load`: virtual shoppers against a running shop (see tools/load/runner.ts and the README's
// "Load" section). Checks every flag before sending anything: bad input is one line on stderr and exit
// code 2. With --json, stdout carries only the events of server/contract/load.ts, one per line.
// Stops by itself (duration, burst timeout); Ctrl+C or SIGTERM stops it early and still prints the
// summary (exit 0); a second signal exits at once.
import {
  CHECKOUT_MODES,
  describeIssues,
  isLoopback,
  type LoadEvent,
  loadSettingsSchema,
  MAX_BURST,
  MAX_DURATION_MS,
  MAX_RATE_PER_S,
  MAX_SHOPPERS,
  PRESETS,
  RUSH_STOCK,
} from "../../server/contract";
import { type CommandLine, readFlags } from "./flags";
import { describePlan, progressLine, summaryTable } from "./report";
import { newRunId, runLoad } from "./runner";
import { LoadStartError, restockAdvice } from "./shop";

const USAGE = `usage: npm run load -- [--shoppers N] [--pause 1s] [--duration 30s] [--mode ${CHECKOUT_MODES.join("|")}]
                     [--rate N/s | --burst N] [--preset ${Object.keys(PRESETS).join("|")}] [--watch]
                     [--fraud 10%] [--restock] [--target URL] [--allow-remote] [--dev-key KEY] [--json]
  closed loop (default): each shopper lists products, places an order, pauses, again (at most ${MAX_SHOPPERS})
  --rate N/s: new shoppers arrive at a fixed rate whatever the answers (at most ${MAX_RATE_PER_S}/s)
  --burst N: N orders at once, then their answers awaited up to --duration (at most ${MAX_BURST})
  --duration: at most ${MAX_DURATION_MS / 60_000} min; --target: default http://127.0.0.1:$PORT, this machine only unless --allow-remote
  --fraud P%: that share of the orders come from a fraudster (screening rejects them; compensation runs)
  --restock: tops each product up to ${RUSH_STOCK.toLocaleString("en")} in stock first, as the Rush hour lab does (developer tools);
             without it, a run that finds nothing in stock stops at once and says so
  --dev-key (or DEV_TOOLS_KEY): unlocks a shop's locked developer tools, for --preset, --restock and queue depth;
    the environment's DEV_TOOLS_KEY is only ever sent to a target on this machine`;

/** An error's message on one line (node's and the config's span several). */
function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, " ");
}

function refuse(message: string): never {
  console.error(`load: ${message}`);
  process.exit(2);
}

async function settingsFromFlags() {
  let commandLine: CommandLine;
  try {
    commandLine = readFlags(process.argv.slice(2));
  } catch (error) {
    refuse(`${oneLine(error)} (--help lists the flags)`);
  }
  if (commandLine.help) {
    console.info(USAGE);
    process.exit(0);
  }
  // The environment is read where the whole project reads it; a bad value there is bad input too.
  const { config } = await import("../../server/config").catch((error: unknown) => refuse(oneLine(error)));
  const { settings } = commandLine;
  const parsed = loadSettingsSchema.safeParse({
    ...settings,
    target: settings.target ?? `http://127.0.0.1:${config.PORT}`,
  });
  if (!parsed.success) refuse(describeIssues(parsed.error));
  const plan = parsed.data;
  // The environment's key is this machine's secret: it goes to a shop on this machine only. Another
  // machine gets a key only when the command line names one (--dev-key), and only if the run needs it.
  const nearby = isLoopback(new URL(plan.target).hostname);
  const devKey =
    commandLine.devKey !== undefined
      ? { key: commandLine.devKey }
      : nearby || !config.DEV_TOOLS_KEY
        ? { key: config.DEV_TOOLS_KEY }
        : { key: undefined, withheld: "the environment's DEV_TOOLS_KEY is not sent to another machine" };
  return { plan, json: commandLine.json, restock: commandLine.restock, devKey };
}

const { plan, json, restock, devKey } = await settingsFromFlags();
const runId = newRunId();
const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stop.signal.aborted) process.exit(130);
    if (!json) console.error(`\nload: ${signal}, stopping (again to quit at once)`);
    stop.abort();
  });
}

const progressOnTty = !json && process.stderr.isTTY;
function show(event: LoadEvent): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(event)}\n`);
    return;
  }
  if (event.type === "measured") return;
  if (event.type === "started") console.info(describePlan(event.runId, event.settings));
  else if (event.type === "progress") {
    const line = progressLine(event);
    process.stderr.write(progressOnTty ? `\r\x1b[K${line}` : `${line}\n`);
  } else {
    if (progressOnTty) process.stderr.write("\r\x1b[K");
    console.info(`\n${summaryTable(event)}`);
  }
}

try {
  const summary = await runLoad(plan, { runId, devKey, restock, stop: stop.signal, emit: show });
  await new Promise((resolve) => process.stdout.write("", resolve));
  if (summary.stoppedBy === "out-of-stock") {
    // The shelves ran empty mid-run: the figures above stop there; what to do is the last line.
    console.error(`load: stopped: ${restockAdvice(plan.target)}`);
    process.exit(1);
  }
  process.exit(0);
} catch (error) {
  const message =
    error instanceof LoadStartError ? error.message : error instanceof Error ? error.stack : error;
  console.error(`load: ${message}`);
  process.exit(1);
}
