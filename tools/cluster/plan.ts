// The command line of `npm run cluster` / `npm run shop -- --web N --workers M`, read into a checked
// plan: how many web and worker processes, which port nginx takes (the web processes take the next N),
// and whether every one of those ports is free. Nothing is started until the plan holds.
import { createServer } from "node:net";
import { z } from "zod";
import { describeIssues } from "../../server/contract";
import { FlagError, flagTable, readArgs } from "../lib/flags";

/** Processes of one kind on one machine: past this, use more machines (see the README's "Scale-out"). */
export const MAX_PROCESSES = 16;

export const DEFAULT_WEB = 2;
export const DEFAULT_WORKERS = 2;

const count = (what: string) =>
  z.coerce
    .number({ error: `--${what} must be a whole number` })
    .int(`--${what} must be a whole number`)
    .min(1, `--${what} must be at least 1`)
    .max(MAX_PROCESSES, `--${what} can be at most ${MAX_PROCESSES} on one machine`);

const planSchema = z
  .object({
    web: count("web"),
    workers: count("workers"),
    port: z.coerce
      .number({ error: "--port must be a whole number" })
      .int("--port must be a whole number")
      .min(1, "--port must be between 1 and 65535")
      .max(65535, "--port must be between 1 and 65535"),
    host: z.string().min(1, "--host must name an address"),
    /** Start a local Redis Cluster (3 primaries, 3 replicas) for this run instead of using REDIS_URL. */
    redisCluster: z.boolean(),
  })
  .refine((plan) => plan.port + plan.web <= 65535, {
    message: "--port leaves no room for the web processes' ports after it",
    path: ["port"],
  });

export type ClusterPlan = z.infer<typeof planSchema>;

/** Where each process of a plan listens: nginx on `host:port`, web process i on 127.0.0.1:port+i. */
export function webPorts(plan: Pick<ClusterPlan, "port" | "web">): number[] {
  return Array.from({ length: plan.web }, (_, index) => plan.port + 1 + index);
}

/** Bad flags, or ports that cannot be had: a FlagError, refused as bad input. */
export class PlanError extends FlagError {
  override name = "PlanError";
}

const FLAGS = flagTable(["web", "workers", "port", "host"], ["check", "redis-cluster"]);

/** Reads and checks the flags; the port and host default to the shop's own (PORT, HOST). Throws a
 * FlagError in words on an unknown flag, a missing value, or a value out of range. */
export function readPlan(
  args: string[],
  defaults: { port: number; host: string },
): { plan: ClusterPlan; check: boolean; help: boolean } {
  const values = readArgs(args, FLAGS);
  const parsed = planSchema.safeParse({
    web: values.web ?? DEFAULT_WEB,
    workers: values.workers ?? DEFAULT_WORKERS,
    port: values.port ?? defaults.port,
    host: values.host ?? defaults.host,
    redisCluster: values["redis-cluster"] === true,
  });
  if (!parsed.success) throw new PlanError(describeIssues(parsed.error));
  return { plan: parsed.data, check: values.check === true, help: values.help === true };
}

/** Whether something else listens on `host:port` (or may not be listened on at all). */
async function portTaken(host: string, port: number): Promise<string | null> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      resolve(error.code === "EADDRINUSE" ? "in use" : (error.code ?? error.message)),
    );
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

/** Throws a PlanError naming every port of the plan that cannot be had. */
export async function checkPorts(plan: Omit<ClusterPlan, "redisCluster">): Promise<void> {
  const wanted = [
    { who: "nginx", host: plan.host, port: plan.port },
    ...webPorts(plan).map((port, index) => ({ who: `web ${index + 1}`, host: "127.0.0.1", port })),
  ];
  const problems: string[] = [];
  for (const { who, host, port } of wanted) {
    const problem = await portTaken(host, port);
    if (problem) problems.push(`${host}:${port} (${who}) is ${problem}`);
  }
  if (problems.length > 0) {
    throw new PlanError(
      `${problems.join("; ")}. The cluster takes --port and the ${plan.web} port(s) after it: ` +
        "stop what holds them, or choose another --port.",
    );
  }
}
