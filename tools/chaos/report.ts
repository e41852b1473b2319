// What the chaos soak prints once the load has ended: the faults it injected, the load per mode, the
// checkouts that broke off after their confirmation committed, the reconciler's re-drives, and the
// orders per mode and status with the check that every order a shopper was told was placed is kept.
import * as fs from "node:fs";
import pg from "pg";
import {
  BROKE_OFF_AFTER_CONFIRM,
  type CheckoutMode,
  type LoadSummaryEvent,
  REDROVE_SIDE_EFFECT,
  REPLACED_STALLED_CONSUMER,
} from "../../server/contract";
import type { Injected } from "./faults";
import { LOST_ANSWERS } from "./soak";

export function printFaults(injected: Injected[]): void {
  console.info("\nfaults injected:");
  for (const fault of injected) {
    console.info(`  ${`${fault.atS.toFixed(1)} s`.padStart(8)}  ${fault.name.padEnd(34)} ${fault.outcome}`);
  }
}

/** How many queued checkouts broke off after their confirmation had committed (a crash between the
 * commit and the answer): each order must stand, its side effects run, nothing undone. A soak that
 * never reached this path says so. */
export function printBrokenOff(webLogs: string[]): void {
  const count = webLogs
    .filter((file) => fs.existsSync(file))
    .reduce((sum, file) => sum + fs.readFileSync(file, "utf8").split(BROKE_OFF_AFTER_CONFIRM).length - 1, 0);
  console.info(
    count > 0
      ? `checkouts broken off after their confirmation committed: ${count} (${LOST_ANSWERS * 100} % of answers lost on purpose, and crashes; each order stood, the invariants below judge them)`
      : "checkouts broken off after their confirmation committed: 0 (this soak never reached that path)",
  );
}

/** How many side effects the workers' reconcilers re-drove (their job lost with Redis' data, or ended
 * without finishing the step), and how many stalled consumers the workers replaced, over every worker
 * process: each one's log says so, one line each. */
export function printRedrives(workerLogs: string[]): void {
  const lines = workerLogs
    .filter((file) => fs.existsSync(file))
    .flatMap((file) => fs.readFileSync(file, "utf8").split("\n"));
  const redrives = lines.filter((line) => line.includes(REDROVE_SIDE_EFFECT));
  const lost = redrives.filter((line) => line.includes('"was":"unknown"')).length;
  console.info(
    `side effects the reconciler re-drove: ${redrives.length} (${lost} whose job Redis had lost, ` +
      `${redrives.length - lost} whose job ended without finishing the step); each still ran once (the invariants below)`,
  );
  const replaced = lines.filter((line) => line.includes(REPLACED_STALLED_CONSUMER)).length;
  console.info(`stalled consumers replaced (took no job while jobs waited): ${replaced}`);
}

export function printLoad(results: { mode: CheckoutMode; summary: LoadSummaryEvent | null }[]): void {
  console.info("\nload (per mode):");
  for (const { mode, summary } of results) {
    if (!summary) {
      console.info(`  ${mode.padEnd(14)} no summary (see its log)`);
      continue;
    }
    const errors = Object.entries(summary.errors)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(", ");
    console.info(
      `  ${mode.padEnd(14)} sent ${summary.sent}, placed ${summary.placed}, answer p50/p99 ` +
        `${summary.answerMs.p50 ?? "-"}/${summary.answerMs.p99 ?? "-"} ms` +
        (errors ? `, errors: ${errors}` : ""),
    );
  }
  console.info("");
}

/** Prints the orders per mode and status, and whether every order a shopper was told was placed is
 * still in the database after the crashes: each was confirmed (confirmedAt is written by the statement
 * the answer waits for), so a mode has at least as many confirmed orders as its load counted placed
 * (more when a kill cut an answer off after the confirmation). Returns false when one has fewer. */
export async function printOrders(
  databaseUrl: string,
  loads: { mode: CheckoutMode; summary: LoadSummaryEvent | null }[],
): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ mode: string; status: string; count: string; confirmed: string }>(
      `SELECT "mode", "status", count(*) AS "count", count("confirmedAt") AS "confirmed"
       FROM "Order" GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    console.info("\norders per mode and status:");
    for (const row of rows) console.info(`  ${row.mode.padEnd(14)} ${row.status.padEnd(16)} ${row.count}`);
    const total = rows.reduce((sum, row) => sum + Number(row.count), 0);
    console.info(`  ${"all".padEnd(14)} ${"".padEnd(16)} ${total}\n`);

    console.info("answered orders kept (told placed ≤ confirmed in the database):");
    let kept = true;
    for (const { mode, summary } of loads) {
      const confirmed = rows
        .filter((row) => row.mode === mode)
        .reduce((sum, row) => sum + Number(row.confirmed), 0);
      const told = summary?.placed ?? 0;
      const held = confirmed >= told;
      kept &&= held;
      console.info(`  ${mode.padEnd(14)} told ${told}, confirmed ${confirmed}  ${held ? "held" : "LOST"}`);
    }
    console.info("");
    return kept;
  } finally {
    await client.end();
  }
}
