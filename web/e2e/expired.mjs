// Recovery from CURSOR_EXPIRED: run against a server whose replay log keeps one event per
// conversation (HOLOMATE_EVENT_LOG_MAX_LEN=1 on the SQL log). The conversation's WebSocket is held
// back while a message is sent and answered, so the page's subscription asks for everything after
// a cursor the log can no longer vouch for and the server answers CURSOR_EXPIRED. The page must
// reload the history, show the whole exchange, and go on live from a new liveCursor.
//
//   WEB_URL=… GRAPHQL_URL=… node e2e/expired.mjs
import { GRAPHQL_URL, createCompanion, expect, live, run, say, signUp } from "./lib.mjs";

/** A GraphQL call from the page, with its session's token (as another device of the person). */
const call = (page, query, variables) =>
  page.evaluate(
    async ({ url, query, variables }) => {
      const token = JSON.parse(
        window.localStorage.getItem("holomate.session") ?? "null",
      )?.accessToken;
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      return response.json();
    },
    { url: GRAPHQL_URL, query, variables },
  );

const MESSAGES =
  "query($c: ID!) { conversation(id: $c) { messages(last: 2) { nodes { role status text } } } }";

await run(async ({ page, step, results }) => {
  results.expiredAnswers = 0;
  const held = [];
  let open = false;
  await page.routeWebSocket(/\/graphql$/, (ws) => {
    const early = [];
    let server = null;
    const connect = () => {
      server = ws.connectToServer();
      server.onMessage((message) => {
        if (String(message).includes("CURSOR_EXPIRED")) results.expiredAnswers += 1;
        ws.send(message);
      });
      for (const message of early.splice(0)) server.send(message);
    };
    ws.onMessage((message) => (server ? server.send(message) : early.push(message)));
    if (open) connect();
    else held.push(connect);
  });

  await step("sign up and open a conversation whose socket is held back", async () => {
    await signUp(page, "Ada");
    await createCompanion(page, "Nova", "A calm navigator");
    await page.locator('[data-companion="Nova"]').getByRole("button", { name: "Talk" }).click();
    await page.waitForURL("**/conversations/**");
    // The page read its liveCursor and the history, then subscribed: the socket waits here.
    await page.waitForFunction(() => document.querySelector('[data-testid="live"]') !== null);
    for (let i = 0; held.length === 0; i++) {
      expect(i < 300, "the page never opened its WebSocket");
      await page.waitForTimeout(50);
    }
  });

  const conversation = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());
  let stored = null;

  await step("another device sends a message and the reply completes meanwhile", async () => {
    const sent = await call(
      page,
      'mutation($c: ID!) { sendMessage(conversationId: $c, text: "Are you there?") { id } }',
      {
        c: conversation,
      },
    );
    expect(!sent.errors, `sendMessage failed: ${JSON.stringify(sent.errors)}`);
    for (let i = 0; ; i++) {
      const nodes = (await call(page, MESSAGES, { c: conversation })).data.conversation.messages
        .nodes;
      stored = nodes.at(-1);
      if (stored.role === "COMPANION" && stored.status === "COMPLETE") break;
      expect(i < 300, `the reply never completed: ${JSON.stringify(nodes)}`);
      await page.waitForTimeout(100);
    }
  });

  await step(
    "the socket connects: CURSOR_EXPIRED, the page reloads and shows everything",
    async () => {
      open = true;
      for (const connect of held.splice(0)) connect();
      await page.locator('[data-role="USER"]', { hasText: "Are you there?" }).waitFor();
      const reply = page.locator('[data-role="COMPANION"][data-status="COMPLETE"]').last();
      await reply.waitFor();
      expect(
        (await reply.textContent())?.includes(stored.text),
        "the reply on screen is not the stored one",
      );
      await live(page);
      expect(results.expiredAnswers >= 1, "the server never answered CURSOR_EXPIRED");
    },
  );

  await step("the next reply streams live", async () => {
    const reply = await say(page, "Tell me about the tides.");
    expect(reply.trim().length > 0, "empty reply");
  });
});
