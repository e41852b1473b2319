// bull-board, BullMQ's own dashboard, under /dev/jobs: every side-effect queue job by job (payload,
// attempts, stack traces), beside the console's summary. It is a developer tool like /dev: off with
// DEV_TOOLS=off (404), and with DEV_TOOLS_KEY set it answers only a browser that unlocked /dev (401
// otherwise, as the dev.* procedures do). Its API can retry, promote and clean jobs, so a change must also
// come from the shop's own pages (the same check as the tRPC API's), never from another site's form.
// Its page runs only its own bundled scripts: the CSP below allows exactly those, plus inline styles.
// @see https://github.com/felixmosh/bull-board
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import express from "express";
import { devToolsAccess, lockedMessage } from "../http/auth/dev-tools";
import { crossSiteReason } from "../http/edge";
import { allSideEffectQueues } from "../queues";

export const JOBS_BOARD_PATH = "/dev/jobs";

export function isJobsBoardPath(url: string): boolean {
  return url === JOBS_BOARD_PATH || /^\/dev\/jobs[/?]/.test(url);
}

const BOARD_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  // The page sets <base href="/dev/jobs/"> to load its assets.
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** bull-board's page template without its Google Fonts stylesheet (it falls back to system fonts): the
 * shop loads nothing from other sites, and the browser tests fail on anything the CSP has to block. */
function pageWithoutRemoteFonts(): string {
  const require = createRequire(import.meta.url);
  const template = readFileSync(require.resolve("@bull-board/ui/dist/index.ejs"), "utf8");
  const views = mkdtempSync(path.join(tmpdir(), "storefront-jobs-board-"));
  process.once("exit", () => rmSync(views, { recursive: true, force: true }));
  writeFileSync(
    path.join(views, "index.ejs"),
    template.replace(/<link[^>]*href="https:\/\/fonts\.googleapis\.com[^>]*>/g, ""),
  );
  return views;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let board: Handler | null = null;

/** Built on first use: it creates the queues' Redis connections. */
function boardHandler(): Handler {
  if (!board) {
    const serverAdapter = new ExpressAdapter();
    serverAdapter.setBasePath(JOBS_BOARD_PATH);
    createBullBoard({
      queues: allSideEffectQueues().map((queue) => new BullMQAdapter(queue)),
      serverAdapter,
      options: {
        uiConfig: {
          boardTitle: "Storefront jobs",
          miscLinks: [{ text: "Developer console", url: "/dev" }],
        },
      },
    });
    serverAdapter.setViewsPath(pageWithoutRemoteFonts());
    const app = express();
    app.disable("x-powered-by");
    app.use(JOBS_BOARD_PATH, serverAdapter.getRouter());
    board = app;
  }
  return board;
}

function refuse(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
  res.end(`${text}\n`);
}

/** Serves /dev/jobs…; `notFound` answers as the shop's other pages do when the tools are off. */
export function serveJobsBoard(req: IncomingMessage, res: ServerResponse, notFound: () => void): void {
  const access = devToolsAccess(req);
  const crossSite = req.method === "GET" || req.method === "HEAD" ? null : crossSiteReason(req);
  if (access === "off") notFound();
  else if (access === "locked") {
    refuse(res, 401, lockedMessage());
  } else if (crossSite) refuse(res, 403, crossSite);
  else {
    res.setHeader("content-security-policy", BOARD_POLICY);
    boardHandler()(req, res);
  }
}
