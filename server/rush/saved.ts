// Saved Rush hour runs (Postgres, table LoadRun): a finished run is written once, with its settings,
// its per-second samples and its summary, so runs can be compared side by side later.
import { type RunView, runViewSchema } from "../contract";
import { prisma } from "../db";
import type { Prisma } from "../generated/prisma/client";

/** How many saved runs the list shows (newest first). */
const LISTED_RUNS = 30;

export async function saveRun(run: RunView): Promise<void> {
  await prisma.loadRun.create({
    data: {
      id: run.id,
      label: run.label,
      experiment: run.experiment,
      status: run.status,
      settings: run.settings as Prisma.InputJsonValue,
      samples: run.samples as Prisma.InputJsonValue,
      summary: (run.summary ?? undefined) as Prisma.InputJsonValue | undefined,
      problem: run.problem,
      startedAt: new Date(run.startedAt),
      endedAt: new Date(run.endedAt ?? Date.now()),
    },
  });
}

type Row = Awaited<ReturnType<typeof prisma.loadRun.findFirstOrThrow>>;

/** A stored run as the API shows it; a row that no longer fits the contract (an older version's) is
 * left out rather than breaking the list. */
function toRunView(row: Row): RunView | null {
  const parsed = runViewSchema.safeParse({
    ...row,
    startedAt: row.startedAt.toISOString(),
    endedAt: row.endedAt.toISOString(),
  });
  return parsed.success ? parsed.data : null;
}

/** The newest saved runs, without their samples (the list needs only the headline figures). */
export async function savedRuns(): Promise<RunView[]> {
  const rows = await prisma.loadRun.findMany({ orderBy: { startedAt: "desc" }, take: LISTED_RUNS });
  return rows.flatMap((row) => {
    const view = toRunView(row);
    return view ? [{ ...view, samples: [] }] : [];
  });
}

export async function savedRunsById(ids: string[]): Promise<RunView[]> {
  const rows = await prisma.loadRun.findMany({ where: { id: { in: ids } }, orderBy: { startedAt: "asc" } });
  return rows.flatMap((row) => toRunView(row) ?? []);
}
