// Long-term memory and character cards in the web app, against a server with the offline
// responder and extractor: a fact told in one conversation is in the companion's memory view
// when another conversation starts; the person searches, corrects, forgets one, forgets all and
// switches memory off (each checked on the server too). A new conversation opens with the
// companion's greeting streamed as a reply, the header says which model answers and shows the
// summary once the history outgrows the prompt (a server with a small context). V2 cards the
// test writes (JSON, and a PNG whose picture the page then shows) are imported through the file
// input; the V3 JSON export downloads and parses, the PNG export downloads.
//
//   WEB_URL=… GRAPHQL_URL=… node e2e/memory.mjs
//
// Env: ARTIFACTS (screenshots of the memory view, the conversation and the companions page go
// there: memory-view.png, conversation.png, companions.png).
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { crc32, deflateSync } from "node:zlib";

import { GRAPHQL_URL, WEB_URL, expect, live, run, say, signUp } from "./lib.mjs";

const ARTIFACTS = resolve(process.env.ARTIFACTS ?? "e2e/artifacts");
const FACT = "My name is Ada and I love tea";
const LIKES = "Ada likes tea";
const CARD = {
  spec: "chara_card_v2",
  spec_version: "2.0",
  data: {
    name: "Seraphina",
    description: "A gentle guardian of the forest glade.",
    personality: "kind, protective",
    scenario: "{{user}} wakes up in Seraphina's glade.",
    first_mes: "You're awake, {{user}}. Rest a little longer.",
    mes_example: "<START>\n{{user}}: Where am I?\n{{char}}: Safe, in my glade.",
    creator_notes: "",
    system_prompt: "",
    post_history_instructions: "",
    alternate_greetings: ["The glade is quiet today."],
    character_book: {
      entries: [
        {
          keys: ["glade"],
          content: "The glade is hidden by old magic.",
          enabled: true,
          insertion_order: 0,
        },
      ],
    },
    tags: ["fantasy"],
    creator: "e2e",
    character_version: "1",
    extensions: { e2e: { kept: true } },
  },
};

/** A 16x16 teal PNG carrying `card` in a `chara` tEXt chunk (base64 JSON), as SillyTavern writes. */
function pngCard(card) {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(16, 0);
  header.writeUInt32BE(16, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.concat([
    Buffer.from([0]),
    Buffer.from(Array(16).fill([0x2a, 0x9d, 0x8f]).flat()),
  ]);
  const text = Buffer.from(
    `chara\0${Buffer.from(JSON.stringify(card)).toString("base64")}`,
    "latin1",
  );
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("tEXt", text),
    chunk("IDAT", deflateSync(Buffer.concat(Array(16).fill(row)))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A GraphQL request as the signed-in page would make it (its token from localStorage). */
async function asPerson(page, query, variables) {
  const token = await page.evaluate(
    () => JSON.parse(window.localStorage.getItem("holomate.session")).accessToken,
  );
  let response;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    response = await fetch(GRAPHQL_URL, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    if (response.status !== 429) break; // the account's rate limit: wait, then again
    await new Promise((done) => setTimeout(done, 1000));
  }
  const body = await response.json();
  expect(!body.errors, `server refused ${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const memoriesOnServer = async (page, companionId, query = null) =>
  (
    await asPerson(
      page,
      "query($c: ID!, $q: String) { memories(companionId: $c, query: $q, first: 100) { nodes { text importance } } }",
      {
        c: companionId,
        q: query,
      },
    )
  ).memories.nodes;

const shownMemories = (page) =>
  page
    .locator("[data-testid=memories] [data-memory]")
    .evaluateAll((items) => items.map((li) => li.dataset.memory));

/** The companion's greeting, streamed into a conversation that just started. */
async function greeted(page, text) {
  await page
    .locator('[data-role="COMPANION"][data-status="COMPLETE"]', { hasText: text })
    .first()
    .waitFor();
}

await run(async ({ page, step, results }) => {
  let companionId = "";
  let firstConversation = "";

  await step("sign up and create a companion with a greeting", async () => {
    await signUp(page, "Ada");
    await page.getByRole("button", { name: "New companion" }).click();
    await page.fill('input[name="name"]', "Nova");
    await page.fill('textarea[name="persona"]', "A warm tea-loving librarian");
    await page.fill('input[name="greeting"]', "Hello {{user}}, I'm {{char}}. What's on your mind?");
    await page.getByRole("button", { name: "Create" }).click();
    await page.locator('[data-companion="Nova"]').waitFor();
  });

  await step("a new conversation opens with the greeting, streamed as a reply", async () => {
    await page.locator('[data-companion="Nova"]').getByRole("button", { name: "Talk" }).click();
    await page.waitForURL("**/conversations/**");
    await live(page);
    await greeted(page, "Hello Ada, I'm Nova.");
    expect(!page.url().includes("from="), `the start cursor stayed in the address: ${page.url()}`);
    firstConversation = page.url();
    const greetings = await page.locator('[data-role="COMPANION"]').count();
    expect(greetings === 1, `${greetings} greetings on screen`);
  });

  await step(
    "tell Nova a fact: the header names the model, the page says Nova will remember it",
    async () => {
      await say(page, FACT);
      const model = page.getByTestId("model"); // which model answered, in the header
      results.model = await model.getAttribute("data-model");
      expect(results.model === "persona-responder", `the header names ${results.model}`);
      expect(
        (await model.getAttribute("data-fallback")) === "false",
        "the responder is the configured model here",
      );
      const notice = page.getByTestId("memory-formed");
      await notice.waitFor();
      expect(
        (await notice.textContent()) === "Nova will remember that",
        `notice: ${await notice.textContent()}`,
      );
      expect(
        ((await notice.getAttribute("title")) ?? "").includes(LIKES),
        "the notice does not say what",
      );
    },
  );

  await step("the history outgrows the small prompt: its summary is in the header", async () => {
    await say(
      page,
      "Yesterday I walked along the river for hours and watched the herons fishing in the shallows.",
    );
    await say(
      page,
      "Then I read a long novel about a lighthouse keeper who writes letters to the sea every night.",
    );
    const summary = page.getByTestId("summary");
    await summary.waitFor({ timeout: 20_000 });
    await summary.locator("summary").click();
    results.summaryChars = ((await summary.locator("p").textContent()) ?? "").length;
    expect(results.summaryChars > 0, "the summary is empty");
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "conversation.png") });
  });

  await step("another conversation with Nova; its memory view lists the fact", async () => {
    await page.goto(`${WEB_URL}/companions`);
    await page
      .locator('[data-companion="Nova"]')
      .getByRole("button", { name: "New conversation" })
      .click();
    await page.waitForURL(
      (url) => url.href !== firstConversation && url.pathname.startsWith("/conversations/"),
    );
    await live(page);
    await greeted(page, "Hello Ada, I'm Nova.");
    await page.getByTestId("memories-link").click();
    await page.waitForURL("**/memories");
    companionId = new URL(page.url()).pathname.split("/")[2];
    await page.locator(`[data-memory="${LIKES}"]`).waitFor();
    results.memoriesShown = (await shownMemories(page)).length;
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "memory-view.png"), fullPage: true });
  });

  await step("search finds the fact", async () => {
    await page.fill('input[name="memorySearch"]', "tea");
    await page.waitForFunction(() =>
      [...document.querySelectorAll("[data-testid=memories] [data-memory]")].every((li) =>
        li.dataset.memory.includes("tea"),
      ),
    );
    const found = await shownMemories(page);
    expect(
      found.length === 1 && found[0] === LIKES,
      `search for tea shows ${JSON.stringify(found)}`,
    );
    await page.fill('input[name="memorySearch"]', "");
    await page.waitForFunction(
      (n) => document.querySelectorAll("[data-testid=memories] [data-memory]").length === n,
      results.memoriesShown,
    );
  });

  await step("edit it: new text and importance, on the server too", async () => {
    const item = page.locator(`[data-memory="${LIKES}"]`);
    await item.getByRole("button", { name: "Edit" }).click();
    await item.locator('input[name="memoryText"]').fill("Ada likes green tea");
    await item.locator('input[name="memoryImportance"]').fill("0.9");
    await item.getByRole("button", { name: "Save" }).click();
    await page.locator('[data-memory="Ada likes green tea"]').getByText("importance 0.9").waitFor();
    const stored = await memoriesOnServer(page, companionId);
    expect(
      stored.some((m) => m.text === "Ada likes green tea" && Math.abs(m.importance - 0.9) < 1e-6),
      `on the server: ${JSON.stringify(stored)}`,
    );
  });

  await step("a memory too long is refused on its field; a short one is remembered", async () => {
    await page.fill('input[name="newMemory"]', "x".repeat(501));
    await page.getByRole("button", { name: "Remember" }).click();
    await page.getByTestId("field-error-text").waitFor();
    await page.fill('input[name="newMemory"]', "Ada is allergic to peanuts");
    await page.getByRole("button", { name: "Remember" }).click();
    await page.locator('[data-memory="Ada is allergic to peanuts"]').waitFor();
    expect(
      (await page.getByTestId("field-error-text").count()) === 0,
      "the refusal stayed after a success",
    );
  });

  await step("at the plan's limit, Remember says so with a link to the plans", async () => {
    // The free plan keeps 200 memories: fill up to it, 15 (the server's alias limit) a request.
    const missing = 200 - (await memoriesOnServer(page, companionId)).length;
    for (let from = 0; from < missing; from += 15) {
      const fields = Array.from(
        { length: Math.min(15, missing - from) },
        (_, i) => `m${i}: rememberMemory(companionId: $c, text: "Filler fact ${from + i}") { id }`,
      );
      await asPerson(page, `mutation($c: ID!) { ${fields.join(" ")} }`, { c: companionId });
    }
    await page.fill('input[name="newMemory"]', "Ada has a cat");
    await page.getByRole("button", { name: "Remember" }).click();
    const refused = page.getByTestId("memory-error");
    await refused.getByRole("link", { name: "See plans" }).waitFor();
    results.quotaMessage = await refused.textContent();
  });

  await step("forget one: gone from the list and from the server", async () => {
    await page
      .locator('[data-memory="Ada likes green tea"]')
      .getByRole("button", { name: "Forget" })
      .click();
    await page.locator('[data-memory="Ada likes green tea"]').waitFor({ state: "detached" });
    const stored = await memoriesOnServer(page, companionId, "tea");
    expect(stored.length === 0, `still on the server: ${JSON.stringify(stored)}`);
    expect(
      (await memoriesOnServer(page, companionId, "peanuts")).length === 1,
      "forgetting one forgot others",
    );
  });

  await step("forget everything (confirmed): none listed, none on the server", async () => {
    await page.getByRole("button", { name: "Forget everything" }).click(); // the dialog is accepted
    await page.getByTestId("no-memories").waitFor();
    results.forgotten = (await page.getByTestId("forgotten").textContent()) ?? "";
    expect(results.forgotten === "Nova forgot 199 memories.", results.forgotten);
    const stored = await memoriesOnServer(page, companionId);
    expect(stored.length === 0, `left on the server: ${JSON.stringify(stored)}`);
  });

  await step("switch memory off, on the server too", async () => {
    await page.getByLabel("Memory on").click();
    await page.getByTestId("memory-off").waitFor();
    // The switch answers at once (an optimistic response); the server has it when the
    // mutation returns: read until it does (a refused mutation puts the switch back on).
    let enabled = true;
    for (let tries = 0; enabled && tries < 20; tries += 1) {
      const { companion } = await asPerson(
        page,
        "query($c: ID!) { companion(id: $c) { memoryEnabled } }",
        { c: companionId },
      );
      enabled = companion.memoryEnabled;
      if (enabled) await new Promise((done) => setTimeout(done, 250));
    }
    expect(enabled === false, "memory is still on on the server");
  });

  await step("import a V2 character card: the companion appears with its name", async () => {
    await page.goto(`${WEB_URL}/companions`);
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, "seraphina.json");
    writeFileSync(file, JSON.stringify(CARD));
    await page.locator('input[name="card"]').setInputFiles(file);
    await page.getByTestId("imported").filter({ hasText: "Seraphina" }).waitFor();
    const card = page.locator('[data-companion="Seraphina"]');
    await card.waitFor();
    await card.getByText("Lorebook: 1 entry").waitFor();
  });

  await step("import a PNG card: the companion shows its picture", async () => {
    const file = join(ARTIFACTS, "lumen.png");
    writeFileSync(
      file,
      pngCard({ ...CARD, data: { ...CARD.data, name: "Lumen", character_book: undefined } }),
    );
    await page.locator('input[name="card"]').setInputFiles(file);
    const picture = page.locator('[data-companion="Lumen"] img.avatar');
    await picture.waitFor();
    await page.waitForFunction(
      (img) => img.complete && img.naturalWidth === 16,
      await picture.elementHandle(),
    );
  });

  await step("a broken card is refused with the server's reason", async () => {
    const file = join(ARTIFACTS, "broken.json");
    writeFileSync(file, "{ not a card");
    await page.locator('input[name="card"]').setInputFiles(file);
    await page.locator(".error", { hasText: "broken.json was not imported" }).waitFor();
  });

  await step("export it as JSON: the link gives a V3 card", async () => {
    const card = page.locator('[data-companion="Seraphina"]');
    await card.getByRole("button", { name: "JSON" }).click();
    const link = card.getByTestId("card-download");
    await link.waitFor();
    const response = await fetch(await link.getAttribute("href"));
    expect(response.ok, `the export link answered ${response.status}`);
    const exported = JSON.parse(await response.text());
    expect(exported.spec === "chara_card_v3", `exported spec ${exported.spec}`);
    expect(exported.data?.name === "Seraphina", `exported name ${exported.data?.name}`);
    expect(exported.data?.extensions?.e2e?.kept === true, "the card's extensions were lost");
    results.exportedFile = await link.getAttribute("download");
    await card.getByRole("button", { name: "PNG" }).click();
    await card.locator('[data-testid="card-download"][data-format="PNG"]').waitFor();
    const png = await fetch(await card.getByTestId("card-download").getAttribute("href"));
    const bytes = Buffer.from(await png.arrayBuffer());
    expect(
      png.ok && bytes.subarray(1, 4).toString() === "PNG",
      `the PNG export answered ${png.status}`,
    );
    await page.screenshot({ path: join(ARTIFACTS, "companions.png"), fullPage: true });
  });
});
