// A reply that failed in a way sending again may fix: run against a server whose language
// model endpoint refuses connections (HOLOMATE_LLM_BASE_URL on a closed port), so every reply
// ends in ReplyFailed PROVIDER_UNAVAILABLE with retryable: true. The page offers "Try again",
// which sends the person's message again.
//
//   WEB_URL=… GRAPHQL_URL=… node e2e/retry.mjs
import { createCompanion, expect, openConversation, run, signUp } from "./lib.mjs";

const TEXT = "Are you there?";
const failed = (page, n) =>
  page.waitForFunction(
    (n) => document.querySelectorAll('[data-role="COMPANION"][data-status="FAILED"]').length >= n,
    n,
  );

await run(async ({ page, step }) => {
  await step("sign up and open a conversation", async () => {
    await signUp(page, "Noor");
    await createCompanion(page, "Echo", "A quiet librarian");
    await openConversation(page, "Echo");
  });

  await step("the reply fails retryably: Try again is offered", async () => {
    await page.fill('input[name="message"]', TEXT);
    await page.getByRole("button", { name: "Send" }).click();
    await failed(page, 1);
    await page.getByTestId("retry").waitFor();
  });

  await step("Try again sends the person's message again", async () => {
    await page.getByTestId("retry").click();
    await page.waitForFunction(
      (text) =>
        [...document.querySelectorAll('[data-role="USER"]')].filter((li) => li.textContent === text)
          .length === 2,
      TEXT,
    );
    await failed(page, 2);
    await page.getByTestId("retry").waitFor();
    const offers = await page.getByTestId("retry").count();
    expect(offers === 1, `${offers} Try again buttons, expected one (on the newest failure)`);
  });
});
