// `npm run check:invariants`: holds a shop's database (DATABASE_URL) to the invariants of
// ./invariants/checks.ts and prints a table: invariant, checked, violations, still moving, examples.
// Read-only (one read-only transaction); exit code 0 when every invariant holds, 1 when one does not,
// 2 on bad input. Orders and outbox rows younger than the moving bound are "still moving", not
// violations: --settle-wait polls until nothing moves (or the wait is over) before judging.
//
//   npm run check:invariants
//   npm run check:invariants -- --baseline stock.json --jobs --settle-wait 60 --json
import { z } from "zod";
import { QUEUE_ATTEMPTS, QUEUE_BACKOFF_MS } from "../../server/contract";
import { flagTable, readCommandLine, refuseAs } from "../lib/flags";
import { checkAll, type InvariantResult, stillMoving } from "./checks";
import { readSnapshot } from "./read";

const USAGE = `usage: npm run check:invariants -- [--baseline FILE] [--jobs] [--settle-wait SECONDS]
                                   [--moving-bound SECONDS] [--json]
  DATABASE_URL: the database to check (read only); REDIS_URL and REDIS_PREFIX: where --jobs reads BullMQ
  --baseline FILE: initial stock per product (JSON: { "<productId>": stock }); default: the seed catalog's
  --jobs: also check that every side-effect job in BullMQ names an existing order
  --settle-wait: poll (each second) up to this long until no order or outbox row is still moving
  --moving-bound: how old a pending/placed order or undispatched outbox row may be before it is stuck
                  (default: SWEEPER_GRACE_MS + one sweep + RECONCILE_EVERY_MS + the queue's retry backoff)`;

const flagsSchema = z.strictObject({
  baseline: z.string().min(1).optional(),
  jobs: z.boolean().default(false),
  "settle-wait": z.coerce
    .number({ error: "--settle-wait takes seconds" })
    .min(0, "--settle-wait must be 0 or more")
    .max(3600, "--settle-wait can be at most 3600")
    .default(0),
  "moving-bound": z.coerce
    .number({ error: "--moving-bound takes seconds" })
    .positive("--moving-bound must be more than 0")
    .optional(),
  json: z.boolean().default(false),
  help: z.boolean().default(false),
});

const refuse: (message: string) => never = refuseAs("check:invariants");

function readFlags() {
  return readCommandLine(
    "check:invariants",
    flagTable(["baseline", "settle-wait", "moving-bound"], ["jobs", "json"]),
    flagsSchema,
    USAGE,
  );
}

/** Longest a healthy order may take to settle: the sweeper's grace and one sweep for an abandoned
 * checkout, one reconcile pass for a job Redis lost, and the queue's whole retry backoff. */
function defaultMovingMs(settings: { SWEEPER_GRACE_MS: number; RECONCILE_EVERY_MS: number }): number {
  const sweep = Math.min(30_000, settings.SWEEPER_GRACE_MS);
  const backoff = QUEUE_BACKOFF_MS * (2 ** (QUEUE_ATTEMPTS - 1) - 1);
  return settings.SWEEPER_GRACE_MS + sweep + settings.RECONCILE_EVERY_MS + backoff;
}

function table(results: InvariantResult[], movingMs: number): string {
  const header = ["invariant", "checked", "violations", "moving", "result"];
  const rows = results.map((result) => [
    result.name,
    result.skipped ? "-" : String(result.checked),
    result.skipped ? "-" : String(result.violations),
    result.skipped ? "-" : String(result.moving),
    result.skipped ? `skipped: ${result.skipped}` : result.violations > 0 ? "VIOLATED" : "held",
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === 0 || column === header.length - 1
          ? cell.padEnd(widths[column] ?? 0)
          : cell.padStart(widths[column] ?? 0),
      )
      .join("  ")
      .trimEnd();
  const examples = results.flatMap((result) =>
    result.examples.map((example) => `  ${result.name}: ${example}`),
  );
  const held = results.filter((result) => !result.skipped && result.violations === 0).length;
  const checked = results.filter((result) => !result.skipped).length;
  return [
    line(header),
    ...rows.map(line),
    ...(examples.length > 0 ? ["", "examples:", ...examples] : []),
    "",
    `invariants: ${held} of ${checked} held (moving bound ${Math.round(movingMs / 1000)} s)`,
  ].join("\n");
}

const flags = readFlags();
const { config } = await import("../../server/config").catch((error: unknown) =>
  refuse(error instanceof Error ? error.message.replace(/\s*\n\s*/g, " ") : String(error)),
);
const movingMs = flags["moving-bound"] !== undefined ? flags["moving-bound"] * 1000 : defaultMovingMs(config);
const readOptions = {
  databaseUrl: config.DATABASE_URL,
  baselineFile: flags.baseline ?? null,
  redis: flags.jobs ? { url: config.REDIS_URL, prefix: config.REDIS_PREFIX } : null,
};

try {
  const deadline = Date.now() + flags["settle-wait"] * 1000;
  let results = checkAll(await readSnapshot(readOptions), movingMs);
  while (stillMoving(results) > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    results = checkAll(await readSnapshot(readOptions), movingMs);
  }
  const violated = results.some((result) => result.violations > 0);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ held: !violated, movingBoundMs: movingMs, results })}\n`);
  } else {
    console.info(table(results, movingMs));
  }
  process.exitCode = violated ? 1 : 0;
} catch (error) {
  console.error(`check:invariants: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
