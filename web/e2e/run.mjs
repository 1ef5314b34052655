// End-to-end run of the web app in Debian's chromium (playwright-core, no browser download):
// sign up, create a companion, talk to it and watch the reply stream into the page while the
// face's mouth moves; then the history survives a reload; then (when the devices API exists)
// pair a device by its code.
//
//   WEB_URL=http://127.0.0.1:3000 GRAPHQL_URL=http://127.0.0.1:8000/graphql node e2e/run.mjs
//
// Env: ARTIFACTS (screenshot dir, default e2e/artifacts), CHROMIUM (default /usr/bin/chromium),
// GRAPHQL_URL (the server, for the device's own calls), DEVICE_USER_CODE, DEVICE_CODE and
// DEVICE_NAME (a pairing the caller requested as a device would), VOICE_WAV (speech played as
// the microphone: the voice step runs when given).
// Prints one JSON line of measurements last; exits 1 with a screenshot path on failure.
import {
  GRAPHQL_URL,
  WEB_URL,
  createCompanion,
  expect,
  openConversation,
  run,
  signUp,
} from "./lib.mjs";

const DEVICE_USER_CODE = process.env.DEVICE_USER_CODE ?? "";
const DEVICE_NAME = process.env.DEVICE_NAME ?? "";
const DEVICE_CODE = process.env.DEVICE_CODE ?? "";
const VOICE_WAV = process.env.VOICE_WAV ?? "";

/** What the device does after its owner approved it: poll once for its token. */
async function devicePoll(deviceCode) {
  const response = await fetch(GRAPHQL_URL, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      query: "mutation($c: String!) { pollDevicePairing(deviceCode: $c) { status deviceToken } }",
      variables: { c: deviceCode },
    }),
  });
  const body = await response.json();
  const poll = body.data?.pollDevicePairing;
  expect(
    poll?.status === "APPROVED" && poll.deviceToken,
    `pairing not approved: ${JSON.stringify(body)}`,
  );
  return poll.deviceToken;
}

const chromiumArgs = VOICE_WAV ? [`--use-file-for-fake-audio-capture=${VOICE_WAV}`] : [];

await run(
  async ({ page, context, step, results }) => {
    // How the app's JSON requests name their document: by hash alone, or with its text.
    results.sentByHash = 0;
    results.sentWithText = 0;
    page.on("request", (request) => {
      if (request.method() !== "POST" || !request.url().startsWith(GRAPHQL_URL)) return;
      if (!(request.headers()["content-type"] ?? "").includes("application/json")) return;
      const body = JSON.parse(request.postData() ?? "{}");
      if (body.query !== undefined) results.sentWithText += 1;
      else if (body.extensions?.persistedQuery) results.sentByHash += 1;
    });

    await step("sign up", async () => {
      results.email = await signUp(page);
    });

    await step("create a companion", async () => {
      await createCompanion(page, "Mira", "A cheerful astronomer who loves the night sky");
    });

    await step("edit the companion", async () => {
      const card = page.locator('[data-companion="Mira"]');
      await card.getByRole("button", { name: "Edit" }).click();
      await card
        .locator('textarea[name="persona"]')
        .fill("A cheerful astronomer who names every star");
      // A voice the server offers becomes a voice profile for her.
      const voice = card.locator('select[name="voice"]');
      const offered = await voice.locator('option[value^="voice:espeak:en"]').first();
      const label = ((await offered.textContent()) ?? "").split(" — ")[0];
      await voice.selectOption(await offered.getAttribute("value"));
      await page.waitForFunction(
        (el) => el.value && !el.value.startsWith("voice:"),
        await voice.elementHandle(),
      );
      await card.getByRole("button", { name: "Save" }).click();
      await card.getByText("names every star").waitFor();
      await card.getByText(`Voice: ${label}`).waitFor();
      results.voice = label;
    });

    await step("open a conversation", async () => {
      await openConversation(page, "Mira");
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
        new MutationObserver(() => seen.emotions.add(face.dataset.emotion)).observe(face, {
          attributes: true,
        });
        const list = document.querySelector('[data-testid="messages"]');
        new MutationObserver(() => {
          const replies = list.querySelectorAll('[data-role="COMPANION"]');
          const last = replies[replies.length - 1];
          if (!last) return;
          const text = last.textContent;
          if (seen.replyTexts.at(-1)?.text !== text)
            seen.replyTexts.push({ text, status: last.dataset.status });
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
      const streaming = seen.replyTexts.filter(
        (t) => t.status === "STREAMING" && t.text.length > 1,
      );
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

    await step("interrupt a reply while it plays", async () => {
      await page.fill(
        'input[name="message"]',
        "Tell me a long story about the Andromeda galaxy and its stars.",
      );
      await page.getByRole("button", { name: "Send" }).click();
      const button = page.getByTestId("interrupt");
      await button.waitFor();
      // Barge in once the companion is audibly speaking (its mouth has left silence).
      await page.waitForFunction(
        () => document.querySelector('[data-testid="mouth"]')?.dataset.viseme !== "sil",
        null,
        { timeout: 15_000 },
      );
      await page.waitForTimeout(1_500); // a few words heard
      await button.click();
      const interrupted = page.locator('[data-role="COMPANION"][data-status="INTERRUPTED"]').last();
      await interrupted.waitFor();
      const heard = ((await interrupted.textContent()) ?? "").trim();
      expect(heard.length > 0, "nothing was kept of what was heard");
      expect(!heard.includes("Tell me more?"), `the whole reply was kept: ${heard}`);
      results.heardChars = heard.length;
    });

    if (VOICE_WAV) {
      await step("speak into the microphone", async () => {
        const before = await page.locator('[data-role="USER"]').count();
        await page.getByRole("button", { name: "🎤 Speak" }).click();
        await page.getByRole("button", { name: "Stop & send" }).waitFor();
        await page.waitForTimeout(3_000);
        await page.getByRole("button", { name: "Stop & send" }).click();
        await page.waitForFunction(
          (n) => document.querySelectorAll('[data-role="USER"]').length > n,
          before,
          {
            timeout: 30_000,
          },
        );
        const heard = (await page.locator('[data-role="USER"]').last().textContent()) ?? "";
        expect(heard.trim().length > 0, "the voice message has no text");
        results.transcript = heard;
        const replies = page.locator('[data-role="COMPANION"][data-status="COMPLETE"]');
        const done = await replies.count();
        await page.waitForFunction(
          (n) =>
            document.querySelectorAll('[data-role="COMPANION"][data-status="COMPLETE"]').length > n,
          done,
          { timeout: 30_000 },
        );
      });
    }

    await step("history survives a reload", async () => {
      await page.reload();
      await page.locator('[data-role="USER"]', { hasText: "favourite star" }).waitFor();
      await page.locator('[data-role="COMPANION"][data-status="COMPLETE"]').first().waitFor();
    });

    await step("page through the history", async () => {
      const all = await page
        .locator("[data-testid=messages] li")
        .evaluateAll((items) => items.map((li) => li.dataset.id));
      await page.goto(`${page.url().split("?")[0]}?page=2`);
      const list = page.locator("[data-testid=messages] li");
      await page.waitForFunction(
        () => document.querySelectorAll("[data-testid=messages] li").length === 2,
      );
      const more = page.getByRole("button", { name: "Load earlier messages" });
      let pages = 1;
      while (await more.isVisible()) {
        const shown = await list.count();
        await more.click();
        await page.waitForFunction(
          (n) => document.querySelectorAll("[data-testid=messages] li").length > n,
          shown,
        );
        pages += 1;
      }
      const paged = await list.evaluateAll((items) => items.map((li) => li.dataset.id));
      expect(JSON.stringify(paged) === JSON.stringify(all), `paged ${paged} != ${all}`);
      results.historyPages = pages;
    });

    await step("delete a companion", async () => {
      await page.getByRole("link", { name: "Companions", exact: true }).click();
      await createCompanion(page, "Temp", "Here briefly");
      await page.locator('[data-companion="Temp"]').getByRole("button", { name: "Delete" }).click();
      await page.locator('[data-companion="Temp"]').waitFor({ state: "detached" });
      await page.locator('[data-companion="Mira"]').waitFor();
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

    if (DEVICE_USER_CODE && DEVICE_CODE) {
      await step("see the device go online and offline live", async () => {
        const token = await devicePoll(DEVICE_CODE);
        const row = page.locator(`[data-device="${DEVICE_NAME}"]`);
        await row.and(page.locator('[data-online="false"]')).waitFor();
        // The device, in a tab of its own: a raw graphql-transport-ws socket holding hologramEvents.
        const device = await context.newPage();
        await device.goto(`${WEB_URL}/login`);
        await device.evaluate(
          ({ url, token }) =>
            new Promise((resolve, reject) => {
              const socket = new WebSocket(url, "graphql-transport-ws");
              window.__device = socket;
              socket.onopen = () =>
                socket.send(
                  JSON.stringify({
                    type: "connection_init",
                    payload: { authorization: `Bearer ${token}` },
                  }),
                );
              socket.onmessage = (m) => {
                const msg = JSON.parse(m.data);
                if (msg.type === "connection_ack") {
                  socket.send(
                    JSON.stringify({
                      id: "1",
                      type: "subscribe",
                      payload: { query: "subscription { hologramEvents { __typename } }" },
                    }),
                  );
                  resolve(true);
                }
              };
              socket.onerror = () => reject(new Error("device socket failed"));
            }),
          { url: GRAPHQL_URL.replace(/^http/, "ws"), token },
        );
        await row.and(page.locator('[data-online="true"]')).waitFor();
        await device.evaluate(() => window.__device.close());
        await row.and(page.locator('[data-online="false"]')).waitFor();
        await device.close();
      });

      await step("put a companion on the device, then unpair it", async () => {
        const choose = page.getByLabel(`Companion on ${DEVICE_NAME}`);
        // Reload only once the server has answered: a reload racing the mutation is no test.
        const assigned = page.waitForResponse(
          (r) =>
            r.url().endsWith("/graphql") &&
            (r.request().postData() ?? "").includes("AssignCompanion"),
        );
        await choose.selectOption({ label: "Mira" });
        expect((await assigned).ok(), "assignCompanionToDevice answered");
        await page.reload();
        const chosen = await page
          .getByLabel(`Companion on ${DEVICE_NAME}`)
          .evaluate((el) => el.selectedOptions[0]?.text);
        expect(chosen === "Mira", `the device shows ${chosen}`);
        await page
          .locator(`[data-device="${DEVICE_NAME}"]`)
          .getByRole("button", { name: "Unpair" })
          .click();
        await page.locator(`[data-device="${DEVICE_NAME}"]`).waitFor({ state: "detached" });
      });
    }

    await step("upgrade the plan through the checkout page", async () => {
      await page.getByRole("link", { name: "Plan" }).click();
      await page.locator('[data-plan="free"]').waitFor();
      await page.getByRole("button", { name: "Upgrade to Plus" }).click();
      await page.waitForURL(/\/billing(\?.*)?$/);
      await page.locator('[data-plan="plus"]').waitFor();
    });

    await step("export my data, then delete my account", async () => {
      await page.getByRole("link", { name: "Privacy" }).click();
      await page.getByRole("button", { name: "Export my data" }).click();
      await page.locator('[data-export-status="READY"]').waitFor();
      const href = await page
        .getByRole("link", { name: "Download the archive" })
        .getAttribute("href");
      const archive = await fetch(href);
      expect(archive.ok, `the archive link answered ${archive.status}`);
      results.exportBytes = (await archive.arrayBuffer()).byteLength;
      await page.fill('input[name="password"]', "correct horse battery");
      await page.getByRole("button", { name: "Delete my account" }).click();
      await page.waitForURL("**/login");
      await page.fill('input[name="email"]', results.email);
      await page.fill('input[name="password"]', "correct horse battery");
      await page.getByRole("button", { name: "Log in" }).click();
      await page.getByText("Invalid email or password").waitFor(); // the account is gone
    });
  },
  { chromiumArgs },
);
