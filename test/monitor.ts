// Redis' MONITOR on a raw socket, for tests that count the commands some code sends. (ioredis' own
// monitor() can throw "Command queue state error" when a monitored line arrives while its connection
// is still being set up; one line of text per command needs no client library.)
import { randomUUID } from "node:crypto";
import net from "node:net";
import type { RedisClient } from "../server/redis";

/** `"a" "b\"c"` → ["a", "b\"c"]: the quoted arguments of one MONITOR line. */
function argumentsOf(line: string): string[] {
  return [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) =>
    (match[1] ?? "").replace(/\\(["\\])/g, "$1"),
  );
}

/** Every command Redis runs while `work` does, as its arguments (the command first, lower-cased).
 * `client` is a connection of the caller's: a marker sent on it after `work` tells when the monitor
 * has seen everything before it (Redis reports a command after running it). */
export async function commandsWhile(
  url: string,
  client: RedisClient,
  work: () => Promise<unknown>,
): Promise<string[][]> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port || 6379), hostname);
  const seen: string[][] = [];
  const marker = `monitor-marker-${randomUUID()}`;
  let buffered = "";
  let ready: () => void = () => {};
  let flushed: () => void = () => {};
  let failStart: (error: Error) => void = () => {};
  let failFlush: (error: Error) => void = () => {};
  const started = new Promise<void>((resolve, reject) => {
    ready = resolve;
    failStart = reject;
  });
  const done = new Promise<void>((resolve, reject) => {
    flushed = resolve;
    failFlush = reject;
  });
  // Either wait ends with the error rather than hang, whenever the connection breaks.
  done.catch(() => {});
  const refused = (error: Error) => {
    failStart(error);
    failFlush(error);
  };
  socket.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    const lines = buffered.split("\r\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "+OK") ready();
      else if (line.startsWith("-")) refused(new Error(`MONITOR refused: ${line}`));
      else if (line.startsWith("+")) {
        const args = argumentsOf(line);
        if (args.includes(marker)) flushed();
        else if (args[0]) seen.push([args[0].toLowerCase(), ...args.slice(1)]);
      }
    }
  });
  socket.on("error", refused);
  socket.on("close", () => refused(new Error("the MONITOR connection closed")));
  socket.write("MONITOR\r\n");
  try {
    await started;
    await work();
    await client.echo(marker);
    await done;
  } finally {
    socket.destroy();
  }
  return seen;
}
