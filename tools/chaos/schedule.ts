// The chaos soak's fault schedule: which faults, how many of each, and when, drawn from a seed so that a
// soak that failed can be run again with the very same schedule (`--seed N`). Pure: the soak
// (tools/chaos/main.ts) injects what this plans.
import { z } from "zod";

/** The faults a soak can inject, each with what it does. */
export const FAULT_KINDS = {
  "worker-kill": "SIGKILL a worker process, start it again",
  "web-kill": "SIGKILL a web process, start it again (nginx sends its shoppers to the other one)",
  "queue-pause": "pause the email queue, resume it a tenth of the soak later",
  "redis-kill": "SIGKILL Redis, start it again from its append-only file",
  "redis-lose": "SIGKILL Redis, delete its append-only file, start it empty",
  "pg-crash": "crash Postgres (pg_ctl stop -m immediate), start it again (recovery from the WAL)",
  "redis-primary-kill":
    "SIGKILL a primary of the Redis Cluster (--redis-cluster); its replica takes over; start it again as a replica",
  "redis-primary-lose":
    "the same, after the primary acknowledged writes for 0.5 s its frozen replica never got: they are lost",
} as const;
export type FaultKind = keyof typeof FAULT_KINDS;
const FAULT_NAMES = Object.keys(FAULT_KINDS) as [FaultKind, ...FaultKind[]];

/** Today's schedule when none is given: each kind of fault once or twice. */
export const DEFAULT_FAULTS = "worker-kill=2,web-kill=2,queue-pause=1,redis-kill=1,pg-crash=1,redis-lose=1";
/** The same on a Redis Cluster (`--redis-cluster`): a primary killed instead of the one Redis. */
export const DEFAULT_CLUSTER_FAULTS =
  "worker-kill=2,web-kill=2,queue-pause=1,pg-crash=1,redis-primary-kill=2,redis-primary-lose=1";

/** Faults that need one Redis, and those that need a Redis Cluster. */
const SINGLE_REDIS_FAULTS: FaultKind[] = ["redis-kill", "redis-lose"];
const CLUSTER_FAULTS: FaultKind[] = ["redis-primary-kill", "redis-primary-lose"];

/** Why these faults cannot be injected on this shape of Redis, or null. */
export function redisShapeProblem(
  counts: Partial<Record<FaultKind, number>>,
  redisCluster: boolean,
): string | null {
  const wanted = (kinds: FaultKind[]) => kinds.filter((kind) => (counts[kind] ?? 0) > 0);
  const misplaced = redisCluster ? wanted(SINGLE_REDIS_FAULTS) : wanted(CLUSTER_FAULTS);
  if (misplaced.length === 0) return null;
  return redisCluster
    ? `--faults: ${misplaced.join(", ")} kill the one Redis; on a Redis Cluster use redis-primary-kill`
    : `--faults: ${misplaced.join(", ")} need a Redis Cluster: add --redis-cluster`;
}

/** More of one kind than this is no soak, but a siege. */
const MAX_PER_KIND = 20;

/** `--faults KIND=COUNT,...`: every kind known, each count a whole number, no kind twice. */
export const faultsSchema = z.string().transform((text, context): Partial<Record<FaultKind, number>> => {
  const counts: Partial<Record<FaultKind, number>> = {};
  for (const part of text.split(",").filter((item) => item.trim() !== "")) {
    const [name = "", count = "", ...rest] = part.trim().split("=");
    const kind = z.enum(FAULT_NAMES).safeParse(name);
    const number = Number(count);
    if (!kind.success) {
      context.addIssue({
        code: "custom",
        message: `--faults: unknown fault "${name}" (known: ${FAULT_NAMES.join(", ")})`,
      });
    } else if (rest.length > 0 || !Number.isInteger(number) || number < 0 || number > MAX_PER_KIND) {
      context.addIssue({
        code: "custom",
        message: `--faults: ${name} takes a count from 0 to ${MAX_PER_KIND} (${name}=N)`,
      });
    } else if (counts[kind.data] !== undefined) {
      context.addIssue({ code: "custom", message: `--faults: ${name} is given twice` });
    } else {
      counts[kind.data] = number;
    }
  }
  return counts;
});

/** mulberry32: a small, well-spread PRNG; the same seed gives the same numbers on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface PlannedFault {
  /** When, as a fraction of the load's length. */
  at: number;
  kind: FaultKind | "queue-resume";
  /** Which process of its kind (1 or 2), for kills. */
  target: number;
}

/** Faults land between these fractions of the load: the shop is busy before, and has time after. */
const FIRST_AT = 0.05;
const LAST_AT = 0.9;
/** A paused queue is resumed this much later. */
const PAUSE_FOR = 0.1;

/** The schedule for these counts and this seed, in time order. Kills alternate between the two
 * processes of their kind, so two kills of a kind hit both. */
export function planFaults(counts: Partial<Record<FaultKind, number>>, seed: number): PlannedFault[] {
  const random = seededRandom(seed);
  const planned: PlannedFault[] = [];
  for (const kind of FAULT_NAMES) {
    for (let index = 0; index < (counts[kind] ?? 0); index++) {
      const at = FIRST_AT + random() * (LAST_AT - FIRST_AT);
      planned.push({ at, kind, target: (index % 2) + 1 });
      if (kind === "queue-pause") planned.push({ at: at + PAUSE_FOR, kind: "queue-resume", target: 1 });
    }
  }
  return planned.sort((a, b) => a.at - b.at);
}
