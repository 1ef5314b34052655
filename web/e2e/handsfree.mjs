// Hands-free talking in the browser: chromium's fake microphone plays a WAV (over and over), the
// page streams it to a voice session over its GraphQL WebSocket, shows what the server heard,
// and the transcript becomes the person's message whose reply streams; the next time the WAV
// speaks, it is over the playing reply, which stops where it was heard (barge-in by speaking).
//
//   WEB_URL=... GRAPHQL_URL=... VOICE_WAV=/path/speech.wav node e2e/handsfree.mjs
//
// Prints one JSON line of measurements last; exits 1 with a screenshot path on failure.
import { createCompanion, expect, openConversation, run, signUp } from "./lib.mjs";

const VOICE_WAV = process.env.VOICE_WAV ?? "";
expect(VOICE_WAV, "VOICE_WAV (the microphone's speech) is needed");

await run(
  async ({ page, step, results }) => {
    // Chunks must go over the socket: count any that went as HTTP requests instead.
    let httpChunks = 0;
    page.on("request", (r) => {
      if ((r.postData() ?? "").includes("SendVoiceChunk")) httpChunks += 1;
    });

    await step("sign up and open a conversation", async () => {
      await signUp(page, "Hana");
      await createCompanion(page, "Mira", "A cheerful astronomer who loves the night sky");
      await openConversation(page, "Mira");
    });

    await step("talk hands-free", async () => {
      // Record what the page shows of the transcript and of each reply as it renders them.
      await page.evaluate(() => {
        const seen = { heard: [], replies: {} };
        window.__seen = seen;
        new MutationObserver(() => {
          const heard = document.querySelector('[data-testid="heard"]');
          if (heard) {
            const shown = {
              state: heard.dataset.state,
              text: heard.textContent,
              outcome: heard.dataset.outcome,
            };
            const last = seen.heard.at(-1);
            if (!last || last.state !== shown.state || last.text !== shown.text)
              seen.heard.push(shown);
          }
          for (const li of document.querySelectorAll('[data-role="COMPANION"]')) {
            const states = (seen.replies[li.dataset.id] ??= []);
            const snap = { status: li.dataset.status, chars: li.textContent.length };
            const last = states.at(-1);
            if (!last || last.status !== snap.status || last.chars !== snap.chars)
              states.push(snap);
          }
        }).observe(document.body, {
          subtree: true,
          childList: true,
          characterData: true,
          attributes: true,
        });
      });
      const before = await page.locator('[data-role="USER"]').count();
      await page.getByTestId("hands-free").click();
      await page.getByRole("button", { name: "Stop hands-free" }).waitFor();
      await page
        .locator('[data-testid="heard"][data-state="final"][data-outcome="MESSAGE"]')
        .waitFor({ timeout: 90_000 });
      const transcript = ((await page.getByTestId("heard").textContent()) ?? "").replace(
        /[“”]/g,
        "",
      );
      expect(
        /mira|star/i.test(transcript),
        `the transcript is not what the WAV says: ${transcript}`,
      );
      // The transcript is the person's message, and the companion's reply streams in.
      await page.waitForFunction(
        (n) => document.querySelectorAll('[data-role="USER"]').length > n,
        before,
      );
      const said = (await page.locator('[data-role="USER"]').nth(before).textContent()) ?? "";
      expect(/star/i.test(said), `the message sent is not the transcript: ${said}`);
      const reply = page.locator(`[data-role="COMPANION"]`).last();
      await reply
        .and(page.locator('[data-status="COMPLETE"], [data-status="INTERRUPTED"]'))
        .waitFor({ timeout: 60_000 });
      results.transcript = transcript;
      results.message = said;
    });

    await step("speak over the playing reply", async () => {
      // The WAV loops: its next sentence is spoken while the reply plays, and interrupts it.
      const interrupted = page
        .locator('[data-role="COMPANION"][data-status="INTERRUPTED"]')
        .first();
      await interrupted.waitFor({ timeout: 90_000 });
      results.heardChars = ((await interrupted.textContent()) ?? "").trim().length;
      const id = await interrupted.getAttribute("data-id");
      // What streamed of it before it stopped: the kept text is what was heard, not all of it.
      results.streamedChars = await page.evaluate(
        (id) => Math.max(0, ...(window.__seen.replies[id] ?? []).map((s) => s.chars)),
        id,
      );
      await page.getByRole("button", { name: "Stop hands-free" }).click();
      await page.getByTestId("hands-free").filter({ hasText: "Hands-free" }).waitFor();
    });

    const seen = await page.evaluate(() => window.__seen);
    results.heardStates = [...new Set(seen.heard.map((h) => h.state))];
    results.partials = seen.heard.filter((h) => h.state === "partial").length;
    const replies = Object.values(seen.replies);
    results.streamedSnapshots = Math.max(
      0,
      ...replies.map((s) => s.filter((x) => x.status === "STREAMING" && x.chars > 1).length),
    );
    results.interruptedReplies = await page
      .locator('[data-role="COMPANION"][data-status="INTERRUPTED"]')
      .count();
    results.httpChunks = httpChunks;
    expect(results.streamedSnapshots >= 2, `no reply streamed: ${JSON.stringify(seen.replies)}`);
    expect(httpChunks === 0, `${httpChunks} chunks went over HTTP`);
  },
  { chromiumArgs: [`--use-file-for-fake-audio-capture=${VOICE_WAV}`] },
);
