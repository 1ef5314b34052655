// A reply whose voice cannot be kept: run against a server whose audio storage refuses every
// write (HOLOMATE_STORAGE_DIR is a file). The server sends ReplyDegraded (AUDIO_STORAGE_FAILED)
// and goes on as text; the page shows the reply's text with a plain notice under it. Its local
// model cannot run either (no engine): the persona responder answers, and the header says so.
//
//   WEB_URL=… GRAPHQL_URL=… node e2e/degraded.mjs
import { createCompanion, expect, openConversation, run, say, signUp } from "./lib.mjs";

const NOTICE = "Voice unavailable for this reply — showing text";

await run(async ({ page, step }) => {
  await step("sign up and open a conversation", async () => {
    await signUp(page, "Lin");
    await createCompanion(page, "Echo", "A quiet librarian");
    await openConversation(page, "Echo");
  });

  await step("the reply arrives as text, saying its voice is unavailable", async () => {
    const reply = await say(page, "Hello! Tell me about the stars.");
    expect(reply.includes(NOTICE), `no notice on the reply: ${reply}`);
    const notices = await page.getByTestId("reply-degraded").count();
    expect(notices === 1, `${notices} notices on screen, expected 1`);
    const shown = page.locator('[data-role="COMPANION"][data-status="COMPLETE"]').last();
    expect(
      ((await shown.textContent()) ?? "").replace(NOTICE, "").trim().length > 0,
      "the reply has no text",
    );
  });

  await step("the header says the persona responder stands in for the model", async () => {
    const model = page.getByTestId("model");
    expect(
      (await model.getAttribute("data-fallback")) === "true",
      "ReplyStarted.fallback not shown",
    );
    const text = (await model.textContent()) ?? "";
    expect(
      text.includes("persona-responder") && text.includes("could not run"),
      `the header says: ${text}`,
    );
  });
});
