// Bad input to `npm run cluster` is one line on stderr, exit code 2 and nothing started; a cluster that
// cannot finish starting stops what it had started and says why.
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { alive, freePortBlock, runCluster } from "./harness";

const held: Server[] = [];
afterEach(async () => {
  await Promise.all(held.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function hold(port: number): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  held.push(server);
}

/** Runs the command to its end; what it printed, and how it ended. */
async function refusal(args: string[]) {
  const run = runCluster(args);
  const exit = await run.exit;
  return { ...exit, output: run.lines.join("\n"), started: run.started() };
}

describe("npm run cluster, refusing", () => {
  it("refuses unknown flags, stray words, zero or too many processes and bad ports, starting nothing", async () => {
    const cases: [string[], RegExp][] = [
      [["--webs", "2"], /Unknown option '--webs'/],
      [["start"], /Unexpected argument 'start'/],
      [["--web", "0"], /--web must be at least 1/],
      [["--workers", "0"], /--workers must be at least 1/],
      [["--web", "17"], /--web can be at most 16 on one machine/],
      [["--web", "two"], /--web must be a whole number/],
      [["--port", "70000"], /--port must be between 1 and 65535/],
      [["--web"], /argument missing/],
    ];
    const answers = await Promise.all(cases.map(([args]) => refusal(args)));
    answers.forEach((answer, index) => {
      const [args, message] = cases[index] ?? [[], /./];
      expect(answer.code, args.join(" ")).toBe(2);
      expect(answer.output).toMatch(new RegExp(`^cluster: .*${message.source}`, "m"));
      expect(answer.output).not.toMatch(/starting|pid/);
    });
  });

  it("refuses ports in use (nginx's, or a web process's after it), naming each, starting nothing", async () => {
    const port = await freePortBlock(2);
    await hold(port);
    await hold(port + 2);
    const answer = await refusal(["--web", "2", "--port", String(port)]);
    expect(answer.code).toBe(2);
    expect(answer.output).toContain(`127.0.0.1:${port} (nginx) is in use`);
    expect(answer.output).toContain(`127.0.0.1:${port + 2} (web 2) is in use`);
    expect(answer.output).not.toContain(`${port + 1} (web 1)`);
    expect(answer.started).toEqual([]);
  });

  it("stops the processes it had started when nginx cannot start, and says so", async () => {
    const run = runCluster(["--web", "1", "--workers", "1", "--port", String(await freePortBlock(1))], {
      NGINX_PATH: "/bin/false",
    });
    const exit = await run.exit;
    expect(exit.code).toBe(1);
    expect(run.lines.join("\n")).toMatch(/^cluster: could not start: nginx exited before it was ready/m);
    expect(run.started().map((member) => member.name)).toEqual(["web1", "worker1", "nginx"]);
    for (const member of run.started()) expect(alive(member.pid), member.name).toBe(false);
  }, 120_000);
});
