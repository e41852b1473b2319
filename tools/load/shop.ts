// What the load's shoppers read from the shop's answers (tRPC's JSON, checked by zod), and how a run
// opens the developer tools it needs (presets, restocking, queue depth): reachable, on, unlocked.
import type http from "node:http";
import { z } from "zod";
import {
  APP_ERROR_CODES,
  JOB_STATES,
  type LoadErrorKind,
  orderView,
  RUSH_STOCK,
} from "../../server/contract";
import { CookieJar, callProcedure, type Reply, type RequestFailed } from "./http";

/** The developer tools key, for a shop that has one, if it may be sent to this target; `withheld`
 * says why one was not given (the environment's key and a target on another machine). */
export interface DevKey {
  key: string | undefined;
  withheld?: string;
}

/** Could not start: the target does not answer, or the developer tools a setting needs are off. */
export class LoadStartError extends Error {}

/** What to tell a person whose shop has nothing left to sell. */
export function restockAdvice(target: string): string {
  return (
    `nothing in stock at ${target}: every product is sold out, so a run would only measure refusals. ` +
    `Add --restock to top each product up to ${RUSH_STOCK.toLocaleString("en")} first (needs the developer ` +
    `tools), or run "npm run db:seed -- --restock" against the shop's database.`
  );
}

export const productsAnswer = z.object({
  result: z.object({ data: z.array(z.object({ id: z.string(), stock: z.number() })) }),
});

export const orderAnswer = z.object({ result: z.object({ data: orderView }) });

const errorAnswer = z.object({
  error: z.object({ message: z.string(), data: z.object({ appCode: z.enum(APP_ERROR_CODES).nullable() }) }),
});

const accessAnswer = z.object({ result: z.object({ data: z.object({ access: z.string() }) }) });

const queuesAnswer = z.object({
  result: z.object({
    data: z.array(z.object({ counts: z.record(z.enum(JOB_STATES), z.number()) })),
  }),
});

export function json(reply: Reply): unknown {
  try {
    return JSON.parse(reply.body);
  } catch {
    return null;
  }
}

/** What an answer that is not an order means, in the contract's words. */
export function errorKind(reply: Reply): LoadErrorKind {
  const parsed = errorAnswer.safeParse(json(reply));
  return (parsed.success ? parsed.data.error.data.appCode : null) ?? "SERVER_ERROR";
}

export function errorMessage(reply: Reply): string {
  const parsed = errorAnswer.safeParse(json(reply));
  return parsed.success ? parsed.data.error.message : `HTTP ${reply.status}`;
}

export interface DevTools {
  usable: boolean;
  /** Why not, when not usable. */
  why: string;
  jar: CookieJar;
  /** The catalog had something in stock when the run began. */
  inStock: boolean;
}

/** Checks the shop answers at all, then whether its developer tools can be used (unlocking them with
 * the key, as a browser does in /dev). Queue depth and presets need them; the checkouts do not. */
export async function openDevTools(
  target: string,
  agent: http.Agent,
  { key, withheld }: DevKey,
): Promise<DevTools> {
  const jar = new CookieJar();
  const ask = (procedure: string, kind: "query" | "mutation", input?: unknown) =>
    callProcedure(target, procedure, { agent, kind, input, jar, timeoutMs: 10_000 }).catch(
      (error: RequestFailed) => {
        throw new LoadStartError(`cannot reach the shop at ${target}: ${error.message}`);
      },
    );
  const catalog = await ask("product.list", "query");
  const products = productsAnswer.safeParse(json(catalog));
  if (catalog.status !== 200 || !products.success) {
    throw new LoadStartError(`${target} answered ${catalog.status} to product.list: is it the storefront?`);
  }
  const inStock = products.data.result.data.some((product) => product.stock > 0);
  const access = await ask("dev.access", "query");
  const state = accessAnswer.safeParse(json(access));
  if (!state.success) {
    const why =
      access.status === 403
        ? "they are off on the target (DEV_TOOLS=off)"
        : `dev.access answered ${access.status}: ${errorMessage(access)}`;
    return { usable: false, why, jar, inStock };
  }
  if (state.data.result.data.access !== "locked") return { usable: true, why: "", jar, inStock };
  if (!key) {
    const why = withheld
      ? `they are locked, and ${withheld}: pass --dev-key to send a key there`
      : "they are locked: pass --dev-key or set DEV_TOOLS_KEY";
    return { usable: false, why, jar, inStock };
  }
  const unlocked = await ask("dev.unlock", "mutation", { key });
  if (unlocked.status !== 200) {
    throw new LoadStartError(`the developer tools refused the key: ${errorMessage(unlocked)}`);
  }
  return { usable: true, why: "", jar, inStock };
}

/** The side-effect queues' backlog (jobs waiting, active or delayed), or null when it cannot be read. */
export async function readQueueDepth(
  target: string,
  agent: http.Agent,
  dev: DevTools,
): Promise<number | null> {
  if (!dev.usable) return null;
  const reply = await callProcedure(target, "dev.queues", {
    agent,
    kind: "query",
    jar: dev.jar,
    timeoutMs: 5000,
  }).catch(() => null);
  const queues = reply && queuesAnswer.safeParse(json(reply));
  if (!queues?.success) return null;
  return queues.data.result.data.reduce(
    (sum, { counts }) => sum + (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0),
    0,
  );
}
