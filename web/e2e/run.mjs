// End-to-end run of the web app in Debian's chromium (playwright-core, no browser download):
// sign up, create a companion, talk to it and watch the reply stream into the page while the
// face's mouth moves; then the history survives a reload; then (when the devices API exists)
// pair a device by its code.
//
//   WEB_URL=http://127.0.0.1:3000 GRAPHQL_URL=http://127.0.0.1:8000/graphql node e2e/run.mjs
//
// Env: ARTIFACTS (screenshot dir, default e2e/artifacts), DEVICE_USER_CODE and DEVICE_NAME
// (a pairing code the caller requested for a device), CHROMIUM (default /usr/bin/chromium).
// Prints one JSON line of measurements last; exits 1 with a screenshot path on failure.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const WEB_URL = process.env.WEB_URL ?? "http://127.0.0.1:3000";
const ARTIFACTS = resolve(process.env.ARTIFACTS ?? "e2e/artifacts");
const DEVICE_USER_CODE = process.env.DEVICE_USER_CODE ?? "";
const DEVICE_NAME = process.env.DEVICE_NAME ?? "";
const TIMEOUT = 30_000;

const results = {};
const log = (...args) => console.log("[e2e]", ...args);
const step = async (name, fn) => {
  const started = performance.now();
  log(name);
  await fn();
  results[name] = Math.round(performance.now() - started);
};

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

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
  ],
});
const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
const page = await context.newPage();
page.setDefaultTimeout(TIMEOUT);
const consoleLines = [];
page.on("console", (msg) => consoleLines.push(`${msg.type()}: ${msg.text()}`));
page.on("pageerror", (err) => consoleLines.push(`pageerror: ${err.message}`));

const email = `web-${Date.now()}@example.com`;
try {
  await step("sign up", async () => {
    await page.goto(`${WEB_URL}/login`);
    await page.getByRole("button", { name: "Create an account" }).click();
    await page.fill('input[name="displayName"]', "Grace");
    await page.fill('input[name="email"]', email);
    await page.fill('input[name="password"]', "correct horse battery");
    await page.getByRole("button", { name: "Sign up" }).click();
    await page.waitForURL("**/companions");
    await page.getByTestId("signed-in-as").filter({ hasText: "Grace" }).waitFor();
  });

  await step("create a companion", async () => {
    await page.getByRole("button", { name: "New companion" }).click();
    await page.fill('input[name="name"]', "Mira");
    await page.fill('textarea[name="persona"]', "A cheerful astronomer who loves the night sky");
    await page.fill('input[name="traits"]', "curious, warm");
    await page.getByRole("button", { name: "Create" }).click();
    await page.locator('[data-companion="Mira"]').waitFor();
  });

  await step("edit the companion", async () => {
    const card = page.locator('[data-companion="Mira"]');
    await card.getByRole("button", { name: "Edit" }).click();
    await card.locator('textarea[name="persona"]').fill("A cheerful astronomer who names every star");
    await card.getByRole("button", { name: "Save" }).click();
    await card.getByText("names every star").waitFor();
  });

  await step("open a conversation", async () => {
    await page.locator('[data-companion="Mira"]').getByRole("button", { name: "Talk" }).click();
    await page.waitForURL("**/conversations/**");
    await page.locator('[data-testid="live"][data-live="true"]').waitFor();
  });

  await step("send a message and watch the reply stream", async () => {
    // Record every text the reply shows and every mouth shape, as the page renders them.
    await page.evaluate(() => {
      const seen = { replyTexts: [], mouths: new Set(), visemes: new Set(), emotions: new Set() };
      window.__seen = seen;
      const mouth = document.querySelector('[data-testid="mouth"]');
      const face = document.querySelector('[data-testid="face"]');
      new MutationObserver(() => {
        seen.mouths.add(mouth.getAttribute("d"));
        seen.visemes.add(mouth.dataset.viseme);
      }).observe(mouth, { attributes: true });
      new MutationObserver(() => seen.emotions.add(face.dataset.emotion)).observe(face, { attributes: true });
      const list = document.querySelector('[data-testid="messages"]');
      new MutationObserver(() => {
        const replies = list.querySelectorAll('[data-role="COMPANION"]');
        const last = replies[replies.length - 1];
        if (!last) return;
        const text = last.textContent;
        if (seen.replyTexts.at(-1)?.text !== text) seen.replyTexts.push({ text, status: last.dataset.status });
      }).observe(list, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    await page.fill('input[name="message"]', "Hello Mira! What is your favourite star?");
    await page.getByRole("button", { name: "Send" }).click();
    await page.locator('[data-role="USER"]', { hasText: "favourite star" }).waitFor();
    const reply = page.locator('[data-role="COMPANION"][data-status="COMPLETE"]').last();
    await reply.waitFor();
    const finalText = (await reply.textContent()) ?? "";
    expect(finalText.trim().length > 0, "the reply is empty");
    // Keep watching while the audio plays: the mouth moves on the audio clock.
    await page.waitForFunction(() => window.__seen.mouths.size >= 4, null, { timeout: 15_000 });
    await page.waitForTimeout(500);
    const seen = await page.evaluate(() => ({
      replyTexts: window.__seen.replyTexts,
      mouths: window.__seen.mouths.size,
      visemes: [...window.__seen.visemes],
      emotions: [...window.__seen.emotions],
    }));
    const streaming = seen.replyTexts.filter((t) => t.status === "STREAMING" && t.text.length > 1);
    expect(
      streaming.length >= 2,
      `the reply did not stream (texts seen: ${JSON.stringify(seen.replyTexts.slice(0, 5))})`,
    );
    expect(
      seen.visemes.some((v) => v && v !== "sil"),
      `the mouth never left silence: ${seen.visemes}`,
    );
    results.replyChars = finalText.length;
    results.streamedSnapshots = streaming.length;
    results.mouthShapes = seen.mouths;
    results.visemes = seen.visemes.length;
    results.emotions = seen.emotions;
    results.clock = await page.getByTestId("face").getAttribute("data-clock");
  });

  await step("history survives a reload", async () => {
    await page.reload();
    await page.locator('[data-role="USER"]', { hasText: "favourite star" }).waitFor();
    await page.locator('[data-role="COMPANION"][data-status="COMPLETE"]').first().waitFor();
  });

  if (DEVICE_USER_CODE) {
    await step("pair a device", async () => {
      await page.getByRole("link", { name: "Devices" }).click();
      await page.waitForURL("**/devices");
      await page.fill('input[name="userCode"]', DEVICE_USER_CODE);
      if (DEVICE_NAME) await page.fill('input[name="deviceName"]', DEVICE_NAME);
      await page.getByRole("button", { name: "Pair" }).click();
      await page.locator("[data-device]").first().waitFor();
      results.devices = await page.locator("[data-device]").count();
    });
  }

  console.log(JSON.stringify({ ok: true, email, ...results }));
} catch (error) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const shot = join(ARTIFACTS, "failure.png");
  await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
  console.error(`[e2e] FAILED at ${page.url()}: ${error.stack ?? error}`);
  console.error(`[e2e] screenshot: ${shot}`);
  console.error(`[e2e] browser console:\n${consoleLines.slice(-30).join("\n")}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
