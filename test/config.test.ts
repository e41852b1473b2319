// Where the web process listens and when it refuses to start: loopback by default; reachable from the
// network only with the developer tools locked by a key (or off), and the refusal says why. A sweeper
// grace that would not outlast the slowest checkout is refused the same way.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { CHECKOUT_WIND_DOWN_MS, exposureProblem, isLoopback, loadConfig } from "../server/config";
import { exitOf } from "./processes";

const KEY = "a key of sixteen characters or more";

describe("config", () => {
  it("listens on loopback by default, with no other origin allowed", () => {
    const config = loadConfig({});
    expect(config.HOST).toBe("127.0.0.1");
    expect(isLoopback(config.HOST)).toBe(true);
    expect(config.ALLOWED_ORIGINS).toEqual([]);
    expect(exposureProblem(config)).toBeNull();
  });

  it("tells loopback names from the rest", () => {
    for (const host of ["127.0.0.1", "127.0.1.1", "localhost", "shop.localhost", "::1", "[::1]"]) {
      expect(isLoopback(host), host).toBe(true);
    }
    for (const host of ["0.0.0.0", "::", "192.168.1.20", "shop.example.invalid", "127.0.0.1.nip.invalid"]) {
      expect(isLoopback(host), host).toBe(false);
    }
  });

  it("refuses to expose unlocked developer tools to the network, and says how to fix it", () => {
    const open = exposureProblem(loadConfig({ HOST: "0.0.0.0" }));
    expect(open).toMatch(/HOST=0\.0\.0\.0/);
    expect(open).toMatch(/DEV_TOOLS_KEY/);
    expect(open).toMatch(/DEV_TOOLS=off/);
    expect(exposureProblem(loadConfig({ HOST: "127.0.0.1", TRUST_PROXY: "on" }))).toMatch(/TRUST_PROXY/);
    expect(exposureProblem(loadConfig({ HOST: "0.0.0.0", DEV_TOOLS_KEY: KEY }))).toBeNull();
    expect(exposureProblem(loadConfig({ HOST: "0.0.0.0", DEV_TOOLS: "off" }))).toBeNull();
  });

  it("counts itself reachable when pages of another machine's origin may call it: that takes a proxy", () => {
    const proxied = exposureProblem(loadConfig({ ALLOWED_ORIGINS: "http://203.0.113.5:8080" }));
    expect(proxied).toMatch(/Refusing to start: ALLOWED_ORIGINS=http:\/\/203\.0\.113\.5:8080/);
    // The refusal hands over a fresh key, which is one the shop accepts.
    const offered = /DEV_TOOLS_KEY=(\S+)\)/.exec(proxied ?? "")?.[1] ?? "";
    expect(loadConfig({ DEV_TOOLS_KEY: offered }).DEV_TOOLS_KEY).toBe(offered);
    expect(
      exposureProblem(loadConfig({ ALLOWED_ORIGINS: "http://203.0.113.5:8080", DEV_TOOLS_KEY: offered })),
    ).toBeNull();
    // A dev server on this machine (another port) is not the network.
    expect(
      exposureProblem(loadConfig({ ALLOWED_ORIGINS: "http://localhost:5173,http://127.0.0.1:8080" })),
    ).toBeNull();
  });

  it("refuses the README's example as a key, and reads DEV_TOOLS_NOT_BEFORE as a time", () => {
    expect(() => loadConfig({ DEV_TOOLS_KEY: "a-long-secret-you-tell-your-colleagues" })).toThrow(
      /DEV_TOOLS_KEY: that is the README's example/,
    );
    expect(loadConfig({ DEV_TOOLS_NOT_BEFORE: "2026-12-07T10:00:00Z" }).DEV_TOOLS_NOT_BEFORE).toEqual(
      new Date("2026-12-07T10:00:00Z"),
    );
    expect(loadConfig({}).DEV_TOOLS_NOT_BEFORE).toBeUndefined();
    expect(() => loadConfig({ DEV_TOOLS_NOT_BEFORE: "yesterday" })).toThrow(/DEV_TOOLS_NOT_BEFORE/);
  });

  it("rejects a key too short to be a secret, and origins that are not http(s) origins", () => {
    expect(() => loadConfig({ DEV_TOOLS_KEY: "letmein" })).toThrow(
      /DEV_TOOLS_KEY: use at least 16 characters/,
    );
    expect(() => loadConfig({ ALLOWED_ORIGINS: "javascript:alert(1)" })).toThrow(/ALLOWED_ORIGINS/);
    expect(
      loadConfig({ ALLOWED_ORIGINS: "https://Shop.example.invalid:443/, http://10.0.0.5:3000" })
        .ALLOWED_ORIGINS,
    ).toEqual(["https://shop.example.invalid", "http://10.0.0.5:3000"]);
  });

  it("reads a Redis Cluster from REDIS_URL or REDIS_CLUSTER_NODES, and says what is wrong with a bad one", () => {
    expect(loadConfig({}).redis).toEqual({ kind: "single", url: "redis://127.0.0.1:6379" });
    expect(
      loadConfig({ REDIS_URL: "rediss+cluster://app:s%40cret@10.0.0.5:7000,10.0.0.6:7001" }).redis,
    ).toEqual({
      kind: "cluster",
      nodes: [
        { host: "10.0.0.5", port: 7000 },
        { host: "10.0.0.6", port: 7001 },
      ],
      tls: true,
      username: "app",
      password: "s@cret",
    });
    const fromNodes = loadConfig({ REDIS_CLUSTER_NODES: "127.0.0.1:7000, 127.0.0.1:7001" });
    expect(fromNodes.redis).toMatchObject({ kind: "cluster", nodes: [{ port: 7000 }, { port: 7001 }] });
    expect(fromNodes.REDIS_URL).toBe("redis+cluster://127.0.0.1:7000,127.0.0.1:7001");
    expect(() => loadConfig({ REDIS_URL: "redis+cluster://10.0.0.5" })).toThrow(
      /REDIS_URL: "10.0.0.5" is not host:port \(a cluster node needs its port\)/,
    );
    expect(() => loadConfig({ REDIS_URL: "http://10.0.0.5:6379" })).toThrow(
      /REDIS_URL: .* is neither redis:\/\//,
    );
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: "10.0.0.5:7000,," })).toThrow(
      /REDIS_CLUSTER_NODES: name the/,
    );
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: "10.0.0.5:7000", REDIS_URL: "redis://x:6379" })).toThrow(
      /REDIS_CLUSTER_NODES: REDIS_URL is set too/,
    );
  });

  it("reads the reconciler's interval and the sweeper's grace, and refuses values that make no sense", () => {
    expect(loadConfig({})).toMatchObject({ RECONCILE_EVERY_MS: 15_000, SWEEPER_GRACE_MS: 600_000 });
    expect(
      loadConfig({ RECONCILE_EVERY_MS: "1000", SWEEPER_GRACE_MS: "10000", CHECKOUT_DEADLINE_MS: "4000" }),
    ).toMatchObject({ RECONCILE_EVERY_MS: 1000, SWEEPER_GRACE_MS: 10_000, CHECKOUT_DEADLINE_MS: 4000 });
    expect(() => loadConfig({ RECONCILE_EVERY_MS: "0" })).toThrow(/RECONCILE_EVERY_MS/);
    expect(() => loadConfig({ SWEEPER_GRACE_MS: "soon" })).toThrow(/SWEEPER_GRACE_MS/);
    expect(() => loadConfig({ SWEEPER_GRACE_MS: "10" })).toThrow(/SWEEPER_GRACE_MS/);
    expect(() => loadConfig({ CHECKOUT_DEADLINE_MS: "0" })).toThrow(/CHECKOUT_DEADLINE_MS/);
  });

  it("refuses a sweeper grace that would not outlast the slowest checkout, and says what to set", () => {
    expect(loadConfig({})).toMatchObject({ CHECKOUT_DEADLINE_MS: 300_000 });
    expect(loadConfig({}).SWEEPER_GRACE_MS).toBeGreaterThan(300_000 + CHECKOUT_WIND_DOWN_MS);
    // Seconds, as the chaos soak runs: only with a deadline of seconds.
    expect(() => loadConfig({ SWEEPER_GRACE_MS: "10000" })).toThrow(
      "SWEEPER_GRACE_MS: 10000 ms would sweep checkouts still running: the slowest takes " +
        `CHECKOUT_DEADLINE_MS (300000 ms) + ${CHECKOUT_WIND_DOWN_MS} ms to fail it. Set SWEEPER_GRACE_MS ` +
        `above ${300_000 + CHECKOUT_WIND_DOWN_MS}, or CHECKOUT_DEADLINE_MS below ${10_000 - CHECKOUT_WIND_DOWN_MS}.`,
    );
    // The bound itself is refused: the grace must be longer, not as long.
    const deadline = String(10_000 - CHECKOUT_WIND_DOWN_MS);
    expect(() => loadConfig({ SWEEPER_GRACE_MS: "10000", CHECKOUT_DEADLINE_MS: deadline })).toThrow(
      /SWEEPER_GRACE_MS: 10000 ms would sweep/,
    );
    expect(
      loadConfig({ SWEEPER_GRACE_MS: "10000", CHECKOUT_DEADLINE_MS: String(Number(deadline) - 1) }),
    ).toMatchObject({ SWEEPER_GRACE_MS: 10_000 });
    // A grace too short for any deadline says only what can help.
    expect(() => loadConfig({ SWEEPER_GRACE_MS: "5000" })).toThrow(/above 305000\.$/);
  });

  it("the worker process refuses to start with such a grace, naming it", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "workers/index.ts"], {
      env: { ...process.env, SWEEPER_GRACE_MS: "60000", WORKER_METRICS_PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    try {
      const { code } = await exitOf(child);
      expect(output).toContain("SWEEPER_GRACE_MS: 60000 ms would sweep checkouts still running");
      expect(code).not.toBe(0);
    } finally {
      clearTimeout(timer);
    }
  });

  it.each([
    [{ HOST: "0.0.0.0" }, /Refusing to start: HOST=0\.0\.0\.0/],
    [
      { ALLOWED_ORIGINS: "http://203.0.113.5:8080" },
      /Refusing to start: ALLOWED_ORIGINS=http:\/\/203\.0\.113\.5/,
    ],
  ])("the web process exits at once with that message instead of listening (%o)", async (env, message) => {
    const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
      env: { ...process.env, PORT: "0", DEV_TOOLS: "on", DEV_TOOLS_KEY: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    try {
      const { code } = await exitOf(child);
      expect(output).toMatch(message);
      expect(code).toBe(1);
    } finally {
      clearTimeout(timer);
      child.kill("SIGKILL");
    }
  });
});
