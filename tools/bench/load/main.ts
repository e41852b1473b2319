// Load benchmark of the real production processes. Builds if needed, starts a private PostgreSQL
// cluster and redis-server on free ports (in a temp dir, all deleted on exit), migrates and seeds them
// with the project's own commands, runs `npm start` (web + worker) against them, and drives
// `order.place` over HTTP with closed-loop shoppers (each with its own session cookie, no pause).
//
//   npm run bench:load                                   # every scenario, 3 runs of 15 s, medians
//   npm run bench:load -- --scenarios 1-async,32-async --runs 1 --duration 5 --no-build
//   npm run bench:load -- --scenarios 1-async --runs 1 --statements     # + where Postgres spends its time
//   npm run bench:load -- --json        # + one JSON object (every scenario's medians, the ratios) as the last line
//   npm run bench:load -- --scenarios 32-async --redis-cluster   # on a local Redis Cluster (3 + 3 nodes)
//
// Every target is a ratio of two figures from the same run (RATIOS below: async CPU ÷ sync CPU, async
// p50 ÷ the catalog read's p50 beside it, ...), which no machine can move. Beside the shoppers, one
// closed-loop catalog reader (`product.list`) measures the cheapest read the same server answers, in
// the same window. "done/s" counts orders whose side effects all finished inside the window; the drain
// rate (orders still moving at the window's end ÷ the time they took) is judged against its bound,
// what the consumers and providers allow (Little's law).
// Each scenario: warm-up, drain (no backlog leaks in), then `--duration` s measured. Orders/s counts
// answers inside the window; latencies cover every order started in it. CPU, statements and
// transactions per order cover [window start, all its orders completed], so async includes the
// worker's side effects. CPU is utime+stime+cutime+cstime from /proc over each process tree (the
// postmaster reaps its backends, so exited ones are not lost); statements come from
// pg_stat_statements (BEGIN/COMMIT excluded), transactions from pg_stat_database, the bench's own
// queries subtracted. Without root or PostgreSQL binaries it falls back to the shared servers
// (database storefront_bench_load, prefix storefront-bench-load), whose CPU includes other clients.
// Its parts: options.ts (flags, scenarios), stack.ts (the processes, on the tools' supervisor: a process
// that dies, Ctrl+C or the time limit ends the bench with a message), scenario.ts (one scenario's
// window and figures), sql.ts and cpu.ts (where the figures come from), report.ts (what it prints).
import os from "node:os";
import { options, type ScenarioName } from "./options";
import { compact, gitCommit, jsonLine, report } from "./report";
import { type Result, runScenario } from "./scenario";
import { buildIfStale, cleanup, startStack, stopping } from "./stack";

async function main(): Promise<void> {
  await buildIfStale();
  const { bench, about } = await startStack();
  const cpus = os.cpus();
  const conditions =
    `${cpus.length} × ${cpus[0]?.model}, load avg ${os.loadavg()[0]?.toFixed(2)}, node ${process.version}, ` +
    `${new Date().toISOString()}, commit ${gitCommit()}; ${about}; warm-up ${options.warmup} s + drain, then ` +
    `${options.duration} s measured (the slow scenarios ${options["slow-duration"]} s); ${options.runs} run(s) interleaved, medians shown (errors: sum of runs); ` +
    "CPU in ms per order; the load generator shares the machine; reference ms: a fixed piece of " +
    "single-threaded work timed just before and just after each window, the mean (lower = faster cores; it moves by half from one " +
    "minute to the next on a shared host, and the other figures move with it)";
  console.info(`conditions: ${conditions}\n`);

  const results = new Map<ScenarioName, Result[]>(options.scenarios.map((name) => [name, []]));
  for (let runIndex = 1; runIndex <= options.runs; runIndex++) {
    for (const [name, list] of results) {
      const label = `[${name} run ${runIndex}/${options.runs}]`;
      const result = await runScenario(bench, name, label);
      list.push(result);
      console.info(`${label} ${compact(result.figures)}`);
      if (result.statements) console.info(result.statements);
    }
  }
  report(results, conditions);
  // Last line of stdout, for machines.
  if (options.json) console.info(jsonLine(results));
}

main()
  .then(cleanup)
  .then(() => process.exit(0))
  .catch(async (error: unknown) => {
    if (!stopping())
      console.error(`bench-load: ${error instanceof Error ? (error.stack ?? error.message) : error}`);
    await cleanup();
    process.exit(1);
  });
