// `npm start`: the web process and the worker process side by side, as in production (each can also
// run alone: `npm run start:web`, `npm run start:worker`). Signals reach both; if one dies, both stop.
import { spawn } from "node:child_process";

const env = { ...process.env, NODE_ENV: "production" };
const processes = ["server/main.ts", "workers/index.ts"].map((entry) =>
  spawn(process.execPath, ["--import", "tsx", entry], { stdio: "inherit", env }),
);

let exiting = false;
function stopAll(signal) {
  if (exiting) return;
  exiting = true;
  for (const child of processes) if (child.exitCode === null) child.kill(signal);
}

for (const child of processes) {
  child.on("exit", (code) => {
    stopAll("SIGTERM");
    if (processes.every((other) => other.exitCode !== null || other.signalCode !== null))
      process.exit(code ?? 0);
  });
}
process.on("SIGINT", () => stopAll("SIGINT"));
process.on("SIGTERM", () => stopAll("SIGTERM"));
