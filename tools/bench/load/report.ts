// What bench:load prints: a table of every scenario's medians (and the runs behind them), the ratios
// its targets are (each of two figures from the same run), and with --json one line for machines.
import { execFileSync } from "node:child_process";
import { GROUPS } from "./cpu";
import { ROOT, SCENARIOS, type ScenarioName } from "./options";
import { type Figures, KEYS, type Result } from "./scenario";

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");

const COLUMNS: [string, (f: Figures) => string][] = [
  ["orders/s", (f) => fixed(f.ordersPerS, f.ordersPerS < 100 ? 1 : 0)],
  ["done/s", (f) => fixed(f.completedPerS, f.completedPerS < 100 ? 1 : 0)],
  ["p50 ms", (f) => fixed(f.p50, 1)],
  ["p90 ms", (f) => fixed(f.p90, 1)],
  ["p99 ms", (f) => fixed(f.p99, 1)],
  ...GROUPS.map((g): [string, (f: Figures) => string] => [`${g} CPU`, (f) => fixed(f[g], 2)]),
  ["total CPU", (f) => fixed(f.total, 2)],
  ["SQL/order", (f) => fixed(f.sql, 1)],
  ["xact/order", (f) => fixed(f.xacts, 2)],
  ["drain s", (f) => (Number.isFinite(f.drainS) ? f.drainS.toFixed(1) : f.ordersPerS > 0 ? "timeout" : "—")],
  [
    "drain/s of bound",
    (f) =>
      Number.isFinite(f.drainBoundPerS) ? `${fixed(f.drainPerS, 0)}/${fixed(f.drainBoundPerS, 0)}` : "—",
  ],
  ["catalog p50 ms", (f) => fixed(f.catalogP50, 1)],
  ["catalog/s", (f) => fixed(f.catalogPerS, 0)],
  ["peak queue", (f) => fixed(f.peakQueue, 0)],
  ["reference ms", (f) => fixed((f.referenceBefore + f.referenceAfter) / 2, 0)],
];

/** The columns before the errors: throughput and latency. */
const HEADLINE = 5;

function median(values: number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[mid] ?? Number.NaN;
  return sorted.length === 0 ? Number.NaN : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function summaryRow(name: ScenarioName, results: Result[]): string[] {
  const figures = Object.fromEntries(
    KEYS.map((key) => [key, median(results.map((r) => r.figures[key]))]),
  ) as Figures;
  const errors = new Map<string, number>();
  for (const r of results) for (const [code, n] of r.errors) errors.set(code, (errors.get(code) ?? 0) + n);
  const cells = COLUMNS.map(([, cell]) => cell(figures));
  const errorCell = [...errors].map(([code, n]) => `${code}×${n}`).join(" ") || "0";
  return [
    name,
    `${SCENARIOS[name].shoppers}`,
    SCENARIOS[name].mode,
    ...cells.slice(0, HEADLINE),
    errorCell,
    ...cells.slice(HEADLINE),
  ];
}

export const compact = (f: Figures) =>
  `${fixed(f.ordersPerS, 1)}/s p50 ${fixed(f.p50, 1)} p99 ${fixed(f.p99, 1)} ms, CPU ${fixed(f.total, 2)} ms, ` +
  `SQL ${fixed(f.sql, 1)}, drain ${fixed(f.drainS, 1)} s (client ${fixed(f.client, 2)} ms/order, ` +
  `reference work ${fixed(f.referenceBefore, 0)} → ${fixed(f.referenceAfter, 0)} ms)`;

export function gitCommit(): string {
  const git = (...args: string[]) =>
    execFileSync("git", ["--no-optional-locks", ...args], { cwd: ROOT, encoding: "utf8", stdio: "pipe" });
  try {
    return (
      git("rev-parse", "--short", "HEAD").trim() +
      (git("status", "--porcelain") ? " + uncommitted changes" : "")
    );
  } catch {
    return "unknown (not a git checkout)";
  }
}

/** The load targets, each a ratio of two figures from the same run (issue 7's decision: no machine
 * moves them), with the scenarios it reads. */
const RATIOS = {
  cpuAsyncOverSync: {
    what: "machine CPU per async order ÷ per sync order, 1 shopper",
    target: { atMost: 1.1 },
    of: (m: Medians) => (m["1-async"]?.total ?? Number.NaN) / (m["1-sync"]?.total ?? Number.NaN),
  },
  p50OverCatalog: {
    what: "async p50 to answer ÷ catalog p50 beside it, 1 shopper",
    target: { atMost: 3 },
    of: (m: Medians) => (m["1-async"]?.p50 ?? Number.NaN) / (m["1-async"]?.catalogP50 ?? Number.NaN),
  },
  // 32 shoppers' orders against 32 clients' catalog reads on the same server: what an order costs
  // the shop in reads. (One reader beside 32 shoppers would measure the reader's wait, not the server.)
  throughputOverCatalog: {
    what: "async orders/s of 32 shoppers ÷ catalog reads/s of 32 readers",
    target: { atLeast: 0.4 },
    of: (m: Medians) =>
      (m["32-async"]?.ordersPerS ?? Number.NaN) / (m["32-catalog"]?.catalogPerS ?? Number.NaN),
  },
  drainOverBound: {
    what: "drain rate ÷ its bound (consumers ÷ latency), 100 shoppers slow",
    target: { atLeast: 0.9 },
    of: (m: Medians) =>
      (m["100-async-slow"]?.drainPerS ?? Number.NaN) / (m["100-async-slow"]?.drainBoundPerS ?? Number.NaN),
  },
  // Async's claim is that its consumers scale while sync's throughput is its shoppers ÷ the latencies
  // stacked: so async with consumers for the rush. With the default 50 per queue, Little's law caps
  // the drain at 50 ÷ 0.55 s ≈ 91 orders/s, 2.3 × sync's ~40/s, below the target by construction.
  completedAsyncOverSync: {
    what: "completed orders/s async (200 consumers) ÷ sync, 100 shoppers slow",
    target: { atLeast: 2.5 },
    of: (m: Medians) =>
      (m["100-async-slow-scaled"]?.completedPerS ?? Number.NaN) /
      (m["100-sync-slow"]?.completedPerS ?? Number.NaN),
  },
} satisfies Record<
  string,
  { what: string; target: { atMost: number } | { atLeast: number }; of: (m: Medians) => number }
>;

type Medians = Partial<Record<ScenarioName, Figures>>;

function medians(results: Map<ScenarioName, Result[]>): Medians {
  return Object.fromEntries(
    [...results].map(([name, runs]) => [
      name,
      Object.fromEntries(KEYS.map((key) => [key, median(runs.map((r) => r.figures[key]))])) as Figures,
    ]),
  );
}

/** Each ratio this run can compute (its scenarios were run), its target, and whether it is met. */
function ratios(m: Medians) {
  return Object.fromEntries(
    Object.entries(RATIOS).flatMap(([name, ratio]) => {
      const value = ratio.of(m);
      if (!Number.isFinite(value)) return [];
      const met = "atMost" in ratio.target ? value <= ratio.target.atMost : value >= ratio.target.atLeast;
      return [[name, { value: Number(value.toFixed(3)), target: ratio.target, met, what: ratio.what }]];
    }),
  );
}

/** The machine's line (`--json`): every scenario's medians and the ratios, as one JSON object. */
export function jsonLine(results: Map<ScenarioName, Result[]>): string {
  const round = (value: number) => (Number.isFinite(value) ? Number(value.toFixed(3)) : null);
  const m = medians(results);
  const scenarios = Object.fromEntries(
    Object.entries(m).map(([name, f]) => [
      name,
      {
        ordersPerS: round(f.ordersPerS),
        completedPerS: round(f.completedPerS),
        p50Ms: round(f.p50),
        p99Ms: round(f.p99),
        catalogP50Ms: round(f.catalogP50),
        catalogPerS: round(f.catalogPerS),
        cpuMsPerOrder: {
          web: round(f.web),
          worker: round(f.worker),
          postgres: round(f.postgres),
          redis: round(f.redis),
          total: round(f.total),
        },
        sqlPerOrder: round(f.sql),
        drainS: round(f.drainS),
        drainPerS: round(f.drainPerS),
        drainBoundPerS: round(f.drainBoundPerS),
      },
    ]),
  );
  const found = ratios(m);
  return JSON.stringify({
    commit: gitCommit(),
    scenarios,
    ratios: Object.fromEntries(Object.entries(found).map(([name, ratio]) => [name, ratio.value])),
  });
}

export function report(results: Map<ScenarioName, Result[]>, conditions: string): void {
  const headers = ["scenario", "shoppers", "mode", ...COLUMNS.slice(0, HEADLINE).map(([h]) => h), "errors"];
  headers.push(...COLUMNS.slice(HEADLINE).map(([h]) => h));
  const table = [...results].map(([name, runs]) => summaryRow(name, runs));
  const widths = headers.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] ?? "").length)));
  const text = (cells: string[]) =>
    cells.map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join("  ");
  const md = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const runs = [...results].map(
    ([name, list]) => `${name}: ${list.map((r) => compact(r.figures)).join(" · ")}`,
  );
  console.info(`\n${text(headers)}\n${table.map(text).join("\n")}\n\nruns:\n${runs.join("\n")}`);
  const found = Object.entries(ratios(medians(results)));
  if (found.length > 0) {
    console.info("\nratios (medians of the runs; each a ratio of two figures from this run):");
    for (const [name, ratio] of found) {
      const target = "atMost" in ratio.target ? `≤ ${ratio.target.atMost}` : `≥ ${ratio.target.atLeast}`;
      console.info(
        `  ${name.padEnd(24)} ${ratio.value.toFixed(2).padStart(6)}  target ${target.padEnd(6)} ${ratio.met ? "met" : "NOT MET"}  (${ratio.what})`,
      );
    }
  }
  console.info(
    `\n<!-- markdown -->\n\n${conditions}\n\n${md(headers)}\n${md(headers.map((_, i) => (i < 3 ? "---" : "--:")))}\n` +
      `${table.map(md).join("\n")}\n\n${runs.map((line) => `- ${line}`).join("\n")}`,
  );
}
