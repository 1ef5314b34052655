// The companion's 3D character in chromium with WebGL (SwiftShader): the project's default VRM
// loads in place of the SVG face, and while a streamed reply plays its mouth expressions follow
// the visemes and its mood follows the emotion, capped. Weights are read from the page's
// data-expressions (what Character3D applied that frame), not guessed from pixels.
//
//   WEB_URL=http://127.0.0.1:3000 node e2e/character3d.mjs
import { join, resolve } from "node:path";

import { WEB_URL, createCompanion, expect, openConversation, run, signUp } from "./lib.mjs";

const MOUTH = ["aa", "ih", "ou", "ee", "oh"];
const ARTIFACTS = resolve(process.env.ARTIFACTS ?? "e2e/artifacts");

/** Gives Mira another VRM by its URL on the companions page (a character asset named after
 * the file), then talks to her again. */
async function wear(page, url, name) {
  await page.goto(`${WEB_URL}/companions`);
  const card = page.locator('[data-companion="Mira"]');
  await card.getByRole("button", { name: "Edit" }).click();
  await card.locator('select[name="character"]').selectOption({ label: "Another VRM, by URL…" });
  await card.getByLabel("VRM model URL").fill(url);
  await card.getByRole("button", { name: "Add" }).click();
  await page.waitForFunction(
    (name) => document.querySelector('select[name="character"]')?.selectedOptions[0]?.text === name,
    name,
  );
  await card.getByRole("button", { name: "Save" }).click();
  await card.getByRole("button", { name: "Talk" }).waitFor();
  await openConversation(page, "Mira");
}

await run(
  async ({ page, step, results }) => {
    await step("sign up and open a conversation", async () => {
      await signUp(page);
      await createCompanion(page, "Mira", "A cheerful astronomer who loves the night sky");
      await openConversation(page, "Mira");
    });

    await step("the 3D character loads in place of the face", async () => {
      const view = page.locator('[data-testid="character3d"][data-state="ready"]');
      await view.waitFor();
      await page.getByTestId("face").waitFor({ state: "detached" });
      results.url = await view.getAttribute("data-url");
      expect(results.url === "/characters/default.vrm", `drew ${results.url}`);
      expect((await view.locator("canvas").count()) === 1, "no canvas");
    });

    await step("its expressions follow a streamed reply", async () => {
      await page.evaluate(() => {
        const seen = { frames: [] };
        window.__seen = seen;
        const view = document.querySelector('[data-testid="character3d"]');
        new MutationObserver(() => seen.frames.push(view.dataset.expressions ?? "")).observe(view, {
          attributes: true,
          attributeFilter: ["data-expressions"],
        });
      });
      await page.fill('input[name="message"]', "Hello Mira! What is your favourite star?");
      await page.getByRole("button", { name: "Send" }).click();
      await page.locator('[data-role="COMPANION"][data-status="COMPLETE"]').last().waitFor();
      // The audio plays on after the text: watch until the mouth has moved through shapes.
      await page.waitForFunction(
        (mouth) =>
          new Set(
            window.__seen.frames
              .flatMap((f) => f.split(" "))
              .filter((w) => mouth.includes(w.split(":")[0]) && Number(w.split(":")[1]) > 0.3)
              .map((w) => w.split(":")[0]),
          ).size >= 2,
        MOUTH,
        { timeout: 15_000 },
      );
      // Idle life goes on: a blink comes every 2 to 6 seconds.
      await page.waitForFunction(
        () => window.__seen.frames.some((f) => f.includes("blink:")),
        null,
        {
          timeout: 8_000,
        },
      );
      const frames = await page.evaluate(() => window.__seen.frames);
      const peaks = {};
      for (const frame of frames)
        for (const item of frame.split(" ").filter(Boolean)) {
          const [name, weight] = item.split(":");
          peaks[name] = Math.max(peaks[name] ?? 0, Number(weight));
        }
      results.frames = frames.length;
      results.peaks = peaks;
      results.mouthFrames = frames.filter((f) => MOUTH.some((m) => f.includes(`${m}:`))).length;
      await page.screenshot({ path: join(ARTIFACTS, "conversation.png") });
    });

    await step("a character asset points at another VRM", async () => {
      const url = `${WEB_URL}/characters/default.vrm?copy=1`;
      await wear(page, url, "default");
      const view = page.locator('[data-testid="character3d"][data-state="ready"]');
      await view.waitFor();
      results.assetUrl = await view.getAttribute("data-url");
      expect(results.assetUrl === url, `drew ${results.assetUrl}`);
    });

    await step("a model that cannot load leaves the SVG face", async () => {
      await wear(page, `${WEB_URL}/characters/missing.vrm`, "missing");
      await page.locator('[data-testid="avatar"][data-character="failed"]').waitFor();
      await page.getByTestId("face").waitFor();
      expect((await page.locator("canvas").count()) === 0, "a canvas is left");
      results.fallback = "face";
    });
  },
  { webgl: true },
);
