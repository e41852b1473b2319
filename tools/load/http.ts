// tRPC over plain HTTP the way a script talks to the shop: keep-alive connections, a cookie jar per
// visitor, queries as GET and mutations as JSON POSTs, no browser headers (no Origin: a script is no
// page, so the shop's cross-site checks let it through). Used by `npm run load` and `npm run bench:load`.
import http from "node:http";
import https from "node:https";
import { parseSetCookie, stringifyCookie } from "cookie";

export const API_PATH = "/api/trpc/";

/** Keep-alive connections to one target, at most `sockets` at once. */
export function keepAliveAgent(target: string, sockets: number): http.Agent {
  const options = { keepAlive: true, maxSockets: sockets };
  return new URL(target).protocol === "https:" ? new https.Agent(options) : new http.Agent(options);
}

/** The cookies one visitor has been given (name → value), sent back with each request. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  get header(): string {
    return stringifyCookie(Object.fromEntries(this.cookies));
  }

  has(name: string): boolean {
    return this.cookies.has(name);
  }

  keep(setCookies: readonly string[] | undefined): void {
    for (const line of setCookies ?? []) {
      const { name, value } = parseSetCookie(line);
      if (name && value !== undefined) this.cookies.set(name, value);
    }
  }
}

export interface Reply {
  status: number;
  body: string;
  setCookies: string[];
  retryAfterS: number | null;
}

export type RequestFailure = "NETWORK" | "TIMEOUT" | "ABORTED";

/** No HTTP answer: the connection failed, took too long, or the caller gave up. */
export class RequestFailed extends Error {
  constructor(
    readonly kind: RequestFailure,
    message: string,
  ) {
    super(message);
    this.name = "RequestFailed";
  }
}

export interface CallOptions {
  agent: http.Agent;
  /** A query goes as GET with its input in the URL; a mutation as a JSON POST. */
  kind: "query" | "mutation";
  input?: unknown;
  jar?: CookieJar;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Calls one procedure; answers with whatever status came back (errors included), or rejects with
 * RequestFailed when nothing came back. Cookies the answer sets go into the jar. */
export function callProcedure(target: string, procedure: string, options: CallOptions): Promise<Reply> {
  const url = new URL(`${API_PATH}${procedure}`, target);
  const payload = options.input === undefined ? undefined : JSON.stringify(options.input);
  if (options.kind === "query" && payload !== undefined) url.searchParams.set("input", payload);
  const headers: http.OutgoingHttpHeaders = {};
  const cookie = options.jar?.header;
  if (cookie) headers.cookie = cookie;
  if (options.kind === "mutation") headers["content-type"] = "application/json";
  const send = url.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new RequestFailed("ABORTED", "stopped"));
    const request = send(url, {
      method: options.kind === "query" ? "GET" : "POST",
      agent: options.agent,
      headers,
      timeout: options.timeoutMs,
    });
    const abort = () => request.destroy(new RequestFailed("ABORTED", "stopped"));
    options.signal?.addEventListener("abort", abort, { once: true });
    request.on("timeout", () =>
      request.destroy(new RequestFailed("TIMEOUT", `no answer within ${options.timeoutMs} ms`)),
    );
    request.on("error", (error) => {
      options.signal?.removeEventListener("abort", abort);
      reject(error instanceof RequestFailed ? error : new RequestFailed("NETWORK", error.message));
    });
    request.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", (error) => request.destroy(error));
      response.on("end", () => {
        options.signal?.removeEventListener("abort", abort);
        const setCookies = response.headers["set-cookie"] ?? [];
        options.jar?.keep(setCookies);
        const retryAfter = Number(response.headers["retry-after"]);
        resolve({
          status: response.statusCode ?? 0,
          body: Buffer.concat(chunks).toString("utf8"),
          setCookies,
          retryAfterS: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : null,
        });
      });
    });
    request.end(options.kind === "mutation" ? (payload ?? "{}") : undefined);
  });
}
