// The chaos soak's fault schedule (tools/chaos/schedule.ts), a pure unit: `--faults` read strictly,
// and the same seed giving the same schedule, so a soak that failed can be run again as it was.
import { describe, expect, it } from "vitest";
import {
  DEFAULT_CLUSTER_FAULTS,
  DEFAULT_FAULTS,
  faultsSchema,
  planFaults,
  redisShapeProblem,
} from "../tools/chaos/schedule";

describe("--faults", () => {
  it("reads KIND=COUNT pairs", () => {
    expect(faultsSchema.parse("pg-crash=6,redis-kill=2,worker-kill=3,web-kill=2")).toEqual({
      "pg-crash": 6,
      "redis-kill": 2,
      "worker-kill": 3,
      "web-kill": 2,
    });
  });

  it("refuses an unknown kind, a count that is no count, and a kind given twice, naming each", () => {
    const issues = (text: string) => faultsSchema.safeParse(text).error?.issues.map((issue) => issue.message);
    expect(issues("pg-explode=1")?.[0]).toContain('unknown fault "pg-explode"');
    expect(issues("pg-crash=many")?.[0]).toContain("pg-crash takes a count from 0 to 20");
    expect(issues("pg-crash=21")?.[0]).toContain("pg-crash takes a count from 0 to 20");
    expect(issues("pg-crash=1,pg-crash=2")?.[0]).toContain("pg-crash is given twice");
  });

  it("fits the faults to the shape of Redis: one redis-server, or a Redis Cluster", () => {
    expect(redisShapeProblem(faultsSchema.parse(DEFAULT_FAULTS), false)).toBeNull();
    expect(redisShapeProblem(faultsSchema.parse(DEFAULT_CLUSTER_FAULTS), true)).toBeNull();
    expect(redisShapeProblem(faultsSchema.parse("redis-primary-kill=1"), false)).toMatch(/--redis-cluster/);
    expect(redisShapeProblem(faultsSchema.parse("redis-lose=1,pg-crash=1"), true)).toMatch(
      /redis-lose kill the one Redis; on a Redis Cluster use redis-primary-kill/,
    );
    expect(redisShapeProblem(faultsSchema.parse("redis-primary-lose=1"), false)).toMatch(/--redis-cluster/);
    expect(redisShapeProblem(faultsSchema.parse("redis-kill=0"), true)).toBeNull();
  });
});

describe("the schedule", () => {
  const counts = faultsSchema.parse("pg-crash=6,worker-kill=3,queue-pause=1");

  it("is the same for the same seed, and another for another", () => {
    expect(planFaults(counts, 42)).toEqual(planFaults(counts, 42));
    expect(planFaults(counts, 42)).not.toEqual(planFaults(counts, 43));
  });

  it("has every fault asked for, in time order, inside the load, each pause followed by its resume", () => {
    const planned = planFaults(counts, 7);
    const kinds = planned.map(({ kind }) => kind);
    expect(kinds.filter((kind) => kind === "pg-crash")).toHaveLength(6);
    expect(kinds.filter((kind) => kind === "worker-kill")).toHaveLength(3);
    expect(planned.map(({ at }) => at)).toEqual([...planned.map(({ at }) => at)].sort((a, b) => a - b));
    expect(planned.every(({ at }) => at > 0 && at < 1)).toBe(true);
    expect(kinds.indexOf("queue-resume")).toBeGreaterThan(kinds.indexOf("queue-pause"));
    // Kills alternate between the two processes of their kind.
    const killed = planned.filter(({ kind }) => kind === "worker-kill").map(({ target }) => target);
    expect(killed.sort()).toEqual([1, 1, 2]);
  });

  it("plans today's faults by default", () => {
    const kinds = planFaults(faultsSchema.parse(DEFAULT_FAULTS), 1).map(({ kind }) => kind);
    expect(kinds.sort()).toEqual(
      [
        "pg-crash",
        "queue-pause",
        "queue-resume",
        "redis-kill",
        "redis-lose",
        "web-kill",
        "web-kill",
        "worker-kill",
        "worker-kill",
      ].sort(),
    );
  });
});
