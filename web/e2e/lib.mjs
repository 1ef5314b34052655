// Shared by the e2e scripts: Debian's chromium through playwright-core, the steps a person takes,
// and a screenshot plus the page's messages and console when a step fails.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

export const WEB_URL = process.env.WEB_URL ?? "http://127.0.0.1:3000";
export const GRAPHQL_URL = process.env.GRAPHQL_URL ?? "http://127.0.0.1:8000/graphql";
const ARTIFACTS = resolve(process.env.ARTIFACTS ?? "e2e/artifacts");
const TIMEOUT = 30_000;

export function expect(condition, message) {
  if (!condition) throw new Error(message);
}

/**
 * Runs scenario(page, context, step) and prints one JSON line of measurements last. Without
 * `webgl` the browser has none: the conversation page shows its fallback, the SVG face, which
 * most scenarios read (character3d.mjs draws the 3D character with SwiftShader's WebGL).
 */
export async function run(scenario, { chromiumArgs = [], webgl = false } = {}) {
  const results = {};
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--autoplay-policy=no-user-gesture-required",
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      ...(webgl ? ["--enable-unsafe-swiftshader"] : ["--disable-webgl"]),
      ...chromiumArgs,
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on("dialog", (dialog) => dialog.accept()); // "Delete …?" confirmations
  const consoleLines = [];
  page.on("console", (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
  page.on("pageerror", (err) => consoleLines.push(`pageerror: ${err.message}`));
  const step = async (name, fn) => {
    const started = performance.now();
    console.log("[e2e]", name);
    await fn();
    results[name] = Math.round(performance.now() - started);
  };
  try {
    await scenario({ page, context, step, results });
    console.log(JSON.stringify({ ok: true, ...results }));
  } catch (error) {
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, "failure.png");
    await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
    console.error(`[e2e] FAILED at ${page.url()}: ${error.stack ?? error}`);
    console.error(`[e2e] screenshot: ${shot}`);
    const shown = await page
      .$$eval("[data-testid=messages] li", (items) =>
        items.map(
          (li) =>
            `${li.dataset.id} ${li.dataset.role} ${li.dataset.status}: ${li.textContent.slice(0, 40)}`,
        ),
      )
      .catch(() => []);
    if (shown.length) console.error(`[e2e] messages on screen:\n${shown.join("\n")}`);
    const errors = await page
      .locator(".error")
      .allTextContents()
      .catch(() => []);
    if (errors.length) console.error(`[e2e] errors on screen: ${errors.join(" | ")}`);
    console.error(`[e2e] browser console:\n${consoleLines.slice(-30).join("\n")}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

export async function signUp(page, name = "Grace") {
  const email = `web-${Date.now()}@example.com`;
  await page.goto(`${WEB_URL}/login`);
  await page.getByRole("button", { name: "Create an account" }).click();
  await page.fill('input[name="displayName"]', name);
  await page.fill('input[name="email"]', email);
  await page.fill('input[name="password"]', "correct horse battery");
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.waitForURL("**/companions");
  await page.getByTestId("signed-in-as").filter({ hasText: name }).waitFor();
  return email;
}

export async function createCompanion(page, name, persona) {
  await page.getByRole("button", { name: "New companion" }).click();
  await page.fill('input[name="name"]', name);
  await page.fill('textarea[name="persona"]', persona);
  await page.fill('input[name="traits"]', "curious, warm");
  await page.getByRole("button", { name: "Create" }).click();
  await page.locator(`[data-companion="${name}"]`).waitFor();
}

export async function openConversation(page, name) {
  await page.locator(`[data-companion="${name}"]`).getByRole("button", { name: "Talk" }).click();
  await page.waitForURL("**/conversations/**");
  await live(page);
}

/** The conversation's event stream is subscribed (the page shows "live"). */
export async function live(page) {
  await page.locator('[data-testid="live"][data-live="true"]').waitFor();
}

/** Sends text; resolves with the completed reply's text once it is on screen. */
export async function say(page, text) {
  const done = await page.locator('[data-role="COMPANION"][data-status="COMPLETE"]').count();
  await page.fill('input[name="message"]', text);
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator('[data-role="USER"]', { hasText: text }).waitFor();
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-role="COMPANION"][data-status="COMPLETE"]').length > n,
    done,
  );
  return (
    (await page.locator('[data-role="COMPANION"][data-status="COMPLETE"]').last().textContent()) ??
    ""
  );
}
