// Round trips are behaviour, so they are tested: one async order end to end (checkout, the jobs added
// after its commit, fraud, email, analytics, fulfillment, settling) may cost at most 16 SQL statements
// in at most 6 explicit transactions, and the checkout request's own critical path at most 6 statements.
// Counted at the driver (every query any pg client of this process sends), on a database and a Redis
// namespace of this file's own, so nothing but this order is counted. A failure prints the statements.
import pg from "pg";
import { afterAll, describe, expect, it, vi } from "vitest";

const BUDGET = { endToEnd: 16, transactions: 6, criticalPath: 6 };

const { callerFor, closeConnections, createProduct, makeServicesFast, orderInput } = await import(
  "./helpers"
);
const { startSideEffectWorkers } = await import("../workers/side-effects");
const { allSideEffectQueues } = await import("../server/queues");
const { prisma } = await import("../server/db");

/** Marks the test's own polling, which is not the order's cost. */
const OWN = "/* budget test */";
const sent = vi.spyOn(pg.Client.prototype, "query");

function statementsSince(mark: number): string[] {
  return sent.mock.calls
    .slice(mark)
    .map(([query]) => (typeof query === "string" ? query : (query as { text: string }).text))
    .filter((text) => !text.includes(OWN) && !/^LISTEN /.test(text));
}

const isTransactionControl = (text: string) => /^(BEGIN|COMMIT|ROLLBACK)\b/i.test(text.trim());
const listing = (statements: string[]) =>
  statements.map((text, index) => `${index + 1}. ${text.replace(/\s+/g, " ").slice(0, 160)}`).join("\n");

afterAll(async () => {
  await Promise.all(allSideEffectQueues().map((queue) => queue.obliterate({ force: true })));
  await closeConnections();
});

describe("statement budget of one async order", () => {
  it(`stays within ${BUDGET.endToEnd} statements, ${BUDGET.transactions} transactions, ${BUDGET.criticalPath} on the critical path`, async () => {
    await makeServicesFast();
    const product = await createProduct({ stock: 5 });
    const caller = callerFor();

    // The request alone: nothing else runs yet, so every statement is the checkout's.
    const beforeCheckout = sent.mock.calls.length;
    const order = await caller.order.place(orderInput(product.id, { mode: "async" }));
    const critical = statementsSince(beforeCheckout);

    // Then the consumers, until the order has settled. The checkout and each step add the jobs they
    // queue themselves; the relay only sweeps what did not get there (its idle sweeps are no order's).
    const workers = startSideEffectWorkers();
    try {
      await expect
        .poll(
          async () => {
            const [row] = await prisma.$queryRawUnsafe<{ status: string }[]>(
              `SELECT "status" ${OWN} FROM "Order" WHERE "id" = $1`,
              order.id,
            );
            return row?.status;
          },
          { timeout: 20_000, interval: 25 },
        )
        .toBe("completed");
    } finally {
      await workers.stop();
    }
    const all = statementsSince(beforeCheckout);
    const statements = all.filter((text) => !isTransactionControl(text));
    const transactions = all.filter((text) => /^BEGIN\b/i.test(text.trim()));
    console.info(
      `one async order: ${statements.length} statements (${critical.length} on the critical path), ` +
        `${transactions.length} explicit transactions\n${listing(all)}`,
    );

    expect(critical.length, `critical path:\n${listing(critical)}`).toBeLessThanOrEqual(BUDGET.criticalPath);
    expect(statements.length, `end to end:\n${listing(all)}`).toBeLessThanOrEqual(BUDGET.endToEnd);
    expect(transactions.length, `end to end:\n${listing(all)}`).toBeLessThanOrEqual(BUDGET.transactions);
  });
});
