// The web process: one HTTP port for the pages (Next.js), the API (tRPC at /api/trpc) and socket.io.
// tRPC is served here rather than from a Next route handler so the API, the realtime layer and the
// checkout live in one module graph with one Prisma client and one set of Redis connections.
// It listens on HOST (loopback unless told otherwise) and puts security headers on every answer.
import { createServer } from "node:http";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import next from "next";
import { BUSY_RETRY_AFTER_S } from "./checkout/admission";
import { config, exposureProblem, isLoopback, SHUTDOWN_GRACE_MS } from "./config";
import { closeDatabase } from "./db";
import { isJobsBoardPath, serveJobsBoard } from "./devtools/jobs-board";
import { queueJobCounts } from "./devtools/queues";
import { loseConfirmationAnswers } from "./faults";
import { hostAllowed, isHttps } from "./http/edge";
import { setPageSecurityHeaders, setSecurityHeaders } from "./http/headers";
import { apiProcedures, isMetricsPath, serveMetrics, trackRequest } from "./http/metrics";
import { admitRequest, followRequestSlotKnob } from "./http/request-slots";
import { newSession, readSession } from "./http/session";
import { log, nameProcess } from "./log";
import { readQueueJobsWith, startMetrics } from "./metrics/registry";
import { attachRealtime } from "./realtime/server";
import { closeRedis } from "./redis";
import { stopRushForShutdown } from "./rush/manager";
import { API_BASE_PATH, apiHandlerOptions } from "./trpc/http";
import { appRouter } from "./trpc/root";

nameProcess("web");
loseConfirmationAnswers(config.CHAOS_LOST_ANSWERS);
const refusal = exposureProblem(config);
if (refusal) {
  log.fatal(refusal);
  process.exit(1);
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dev = config.NODE_ENV !== "production";

const nextApp = next({ dev, dir: root });
const handlePage = nextApp.getRequestHandler();
const handleApi = createHTTPHandler(apiHandlerOptions);

await nextApp.prepare();

startMetrics("web");
readQueueJobsWith(queueJobCounts);
const tracking = {
  apiBasePath: API_BASE_PATH,
  procedures: apiProcedures(Object.keys(appRouter._def.procedures)),
};

const stopFollowingSlots = followRequestSlotKnob();
const BUSY_PAGE = `<!doctype html><title>Busy</title><p>Every request slot of the shop is taken. Please try again in a moment.</p>`;

const server = createServer(async (req, res) => {
  // First: the request's arrival time and the in-flight count (anything added in front of the
  // handlers, such as the pool of request slots below, goes after this line so its wait is measured).
  trackRequest(req, res, tracking);
  const url = req.url ?? "/";
  setSecurityHeaders(res);
  if (!hostAllowed(req)) {
    res.writeHead(403, { "content-type": "text/plain; charset=utf-8" });
    res.end("This host name is not served here. Add its origin to ALLOWED_ORIGINS to allow it.\n");
    return;
  }
  const admission = await admitRequest(req, res);
  if (admission === "gone") return;
  if (admission === "busy" && !url.startsWith(API_BASE_PATH)) {
    res.writeHead(503, {
      "content-type": "text/html; charset=utf-8",
      "retry-after": String(BUSY_RETRY_AFTER_S),
    });
    res.end(BUSY_PAGE);
    return;
  }
  if (url.startsWith(API_BASE_PATH)) return handleApi(req, res);
  if (url === "/api/health") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true }));
    return;
  }
  if (isMetricsPath(url)) return void serveMetrics(req, res);
  if (isJobsBoardPath(url)) {
    return serveJobsBoard(req, res, () => {
      setPageSecurityHeaders(req, res, dev);
      void nextApp.render404(req, res);
    });
  }
  setPageSecurityHeaders(req, res, dev);
  if (config.DEV_TOOLS !== "on" && /^\/(dev|mailbox)(\/|\?|$)/.test(url)) {
    return nextApp.render404(req, res);
  }
  // Every visitor gets a session before their first purchase, so a checkout can be watched live
  // (by idempotency key) while it runs.
  if (!url.startsWith("/_next/") && !readSession(req.headers.cookie)) {
    res.appendHeader("set-cookie", newSession({ secure: isHttps(req) }).cookie);
  }
  return handlePage(req, res);
});
// An idle keep-alive connection stays open 65 s (Node's default is 5 s). A client that reuses its
// connection after exactly that idle time (Playwright's request context did, between two calls 5 s
// apart) sends into a socket the server is closing and gets ECONNRESET: the longer the idle time, the
// rarer that moment, as behind a load balancer whose idle timeout (60 s) is kept below the server's.
server.keepAliveTimeout = 65_000;
const realtime = attachRealtime(server);

server.listen(config.PORT, config.HOST, () => {
  log.info(
    { mode: dev ? "development" : "production", host: config.HOST, port: config.PORT },
    `storefront web: ${whereToFindUs()}`,
  );
});

/** The address people can actually open, and who else can. */
function whereToFindUs(): string {
  const host = config.HOST.includes(":") ? `[${config.HOST}]` : config.HOST;
  const everywhere = config.HOST === "0.0.0.0" || config.HOST === "::";
  if (everywhere)
    return `http://127.0.0.1:${config.PORT}, and port ${config.PORT} of every network interface`;
  const reach = isLoopback(config.HOST) ? "from this machine only" : "from the network";
  return `http://${host}:${config.PORT} (${reach})`;
}

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "storefront web: finishing requests in flight");
  // Stop taking connections, let requests in flight (a synchronous checkout takes seconds) answer,
  // then disconnect: a checkout cut off halfway would be left for the sweeper.
  stopFollowingSlots();
  // A rush aimed at this process stops first: its knobs go back and its run is saved.
  await stopRushForShutdown();
  const drained = new Promise((resolve) => server.close(resolve));
  server.closeIdleConnections();
  await realtime.close();
  await Promise.race([drained, sleep(SHUTDOWN_GRACE_MS)]);
  await Promise.allSettled([closeDatabase(), closeRedis(), nextApp.close()]);
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
