// A shop started with DEV_TOOLS_KEY (as it must be once other machines can reach it): the developer
// pages open only after the key was entered once, and a browser without it sees a locked door (and a
// change it asks for is refused: the console's switch goes back and says so). This story starts a web
// process of its own, with the key, beside the suite's server.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import getPort from "get-port";
import { expect, screenPath, test } from "./fixtures";

const KEY = "a long enough key for the e2e shop";
// A free port: E2E_PORT + 1 may be another run's E2E_PORT, whose shop (without the key) would answer.
const port = await getPort();
const origin = `http://127.0.0.1:${port}`;
let web: ChildProcess | null = null;

async function answers(url: string): Promise<boolean> {
  return fetch(url).then(
    (response) => response.ok,
    () => false,
  );
}

test.beforeAll(async () => {
  web = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    env: { ...process.env, NODE_ENV: "production", PORT: String(port), DEV_TOOLS_KEY: KEY },
    stdio: "ignore",
  });
  // Ours that answers: still running (one that found the port taken has exited).
  await expect
    .poll(async () => web?.exitCode === null && (await answers(`${origin}/api/health`)), {
      message: `the keyed web process on ${port} answers`,
      timeout: 60_000,
      intervals: [200],
    })
    .toBe(true);
});

test.afterAll(async () => {
  if (!web || web.exitCode !== null) return;
  const exited = once(web, "exit");
  web.kill("SIGTERM");
  await exited;
});

test("the developer console opens only with the key, entered once per browser", async ({
  page,
  context,
  browser,
}) => {
  await page.goto(`${origin}/dev`);
  await expect(page.getByRole("heading", { name: "Developer tools are locked" })).toBeVisible();
  await expect(page.getByLabel("Email latency (ms)")).toHaveCount(0);
  await page.screenshot({ path: screenPath("e2e-dev-locked"), fullPage: true });

  await page.getByLabel("Developer tools key").fill("not the key at all");
  await page.getByRole("button", { name: "Unlock" }).click();
  await expect(page.getByText("That is not the developer tools key.")).toBeVisible();
  await page.screenshot({ path: screenPath("e2e-dev-wrong-key"), fullPage: true });

  await page.getByLabel("Developer tools key").fill(KEY);
  await page.getByRole("button", { name: "Unlock" }).click();
  await expect(page.getByRole("heading", { name: "Developer console" })).toBeVisible();
  await expect(page.getByLabel("Email latency (ms)")).toBeVisible();
  const cookie = (await context.cookies(origin)).find(
    (candidate) => candidate.name === "storefront_dev_tools",
  );
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe("Strict");

  // Remembered: other developer pages open at once.
  await page.goto(`${origin}/mailbox`);
  await expect(page.getByRole("heading", { name: "Mailbox" })).toBeVisible();

  // Another browser has no key: locked page, and the API refuses it too.
  const stranger = await browser.newContext();
  const strangerPage = await stranger.newPage();
  await strangerPage.goto(`${origin}/mailbox`);
  await expect(strangerPage.getByRole("heading", { name: "Developer tools are locked" })).toBeVisible();
  expect((await stranger.request.get(`${origin}/api/trpc/dev.mailbox`)).status()).toBe(401);
  await stranger.close();
});

test("a switch the server refuses flips back and says why", async ({ page, context }) => {
  await page.goto(`${origin}/dev`);
  await page.getByLabel("Developer tools key").fill(KEY);
  await page.getByRole("button", { name: "Unlock" }).click();
  const emailDown = page.getByRole("switch", { name: "Email down" });
  await expect(emailDown).not.toBeChecked();

  // The key's cookie gone (expired, say): the server refuses the next change.
  await context.clearCookies();
  await emailDown.click();
  await expect(page.getByRole("alert").filter({ hasText: "The change was not saved" })).toBeVisible();
  await expect(emailDown).not.toBeChecked();
  await expect(emailDown.locator("xpath=..")).toContainText("Up");
});
