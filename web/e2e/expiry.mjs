// The session outlives its access tokens: run against a server with a short access-token TTL
// (HOLOMATE_ACCESS_TOKEN_TTL_S) and a browser whose clock runs two minutes behind, so the app
// never refreshes early and meets every expiry the hard way: the server closing the
// conversation's socket (4401) in two tabs at once, then TOKEN_EXPIRED over HTTP. The pages must
// stay live, keep streaming replies and keep loading data, with one refresh per expiry: refresh
// tokens are single use, so two tabs refreshing with the same one would end the session.
//
//   ACCESS_TTL_S=8 WEB_URL=… GRAPHQL_URL=… node e2e/expiry.mjs
import { createCompanion, expect, live, openConversation, run, say, signUp } from "./lib.mjs";

const TTL_MS = Number(process.env.ACCESS_TTL_S ?? "8") * 1000;
const SKEW_MS = 120_000;

const accessToken = (page) =>
  page.evaluate(
    () => JSON.parse(window.localStorage.getItem("holomate.session") ?? "null")?.accessToken,
  );

await run(async ({ page, context, step, results }) => {
  await context.clock.install({ time: Date.now() - SKEW_MS });
  let expiredAnswers = 0;
  results.refreshes = 0;
  results.refreshFailures = 0;
  results.refreshesRotatedElsewhere = 0;
  context.on("response", async (response) => {
    if (response.request().method() !== "POST" || !response.url().endsWith("/graphql")) return;
    const body = await response.text().catch(() => "");
    if (body.includes("TOKEN_EXPIRED")) expiredAnswers += 1;
    if (body.includes('"refreshToken":{')) results.refreshes += 1;
    // Reused or invalid: the session is over. REFRESH_ROTATED is a second tab reading the
    // first tab's tokens late: the app waits for them (lib/session.ts), nothing ends.
    if (/REFRESH_(REUSED|INVALID)/.test(body)) results.refreshFailures += 1;
    if (body.includes("REFRESH_ROTATED")) results.refreshesRotatedElsewhere += 1;
    if (process.env.E2E_DEBUG) console.log("[http]", response.status(), body.slice(0, 200));
  });

  await step("sign up and open a conversation", async () => {
    await signUp(page, "Ada");
    await createCompanion(page, "Nova", "A calm navigator");
    await openConversation(page, "Nova");
    await page.evaluate(() => {
      window.__drops = 0;
      const badge = document.querySelector('[data-testid="live"]');
      new MutationObserver(() => {
        if (badge.dataset.live === "false") window.__drops += 1;
      }).observe(badge, { attributes: true });
    });
  });

  const first = await accessToken(page);
  const otherTab = await context.newPage();

  await step("a second tab opens the same conversation", async () => {
    await otherTab.goto(page.url());
    await live(otherTab);
  });

  await step("both sockets close at expiry and come back with one new token", async () => {
    await page.waitForFunction(() => window.__drops > 0, null, { timeout: TTL_MS + 10_000 });
    await live(page);
    await otherTab.waitForTimeout(1_000);
    await live(otherTab);
    const second = await accessToken(page);
    expect(second && second !== first, "the access token was not refreshed");
    expect((await accessToken(otherTab)) === second, "the tabs hold different tokens");
    await otherTab.close();
  });

  await step("a reply still streams", async () => {
    const reply = await say(page, "Are you still there?");
    expect(reply.trim().length > 0, "empty reply");
  });

  results.socketDrops = await page.evaluate(() => window.__drops);

  await step("HTTP answers TOKEN_EXPIRED once, then the retried query succeeds", async () => {
    // Leave the conversation (no socket to refresh for us), let the token expire, then query.
    await page.getByRole("link", { name: "Companions" }).first().click();
    await page.locator('[data-companion="Nova"]').waitFor();
    const before = await accessToken(page);
    await page.waitForTimeout(TTL_MS + 1_000);
    expect(expiredAnswers === 0, "TOKEN_EXPIRED before the token expired");
    await page.getByRole("link", { name: "Plan" }).click();
    await page.locator("[data-plan]").waitFor();
    const after = await accessToken(page);
    expect(after && after !== before, "the query did not refresh the token");
    expect(expiredAnswers === 1, `expected one TOKEN_EXPIRED answer, saw ${expiredAnswers}`);
    results.expiredAnswers = expiredAnswers;
  });

  await step("the session survives a reload", async () => {
    await page.reload();
    await page.locator("[data-plan]").waitFor();
  });
});
