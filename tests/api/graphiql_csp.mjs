// Opens the served GraphiQL page in Debian's chromium under its own Content-Security-Policy and
// prints one JSON line: which CDN files the page was allowed to request, CSP violations, and
// page errors. The CDN is not reachable from the tests, so its files are answered empty (their
// integrity check then fails, which is not a CSP matter); what counts is that chromium let the
// page ask for them and ran its inline script (which then misses the CDN's globals).
// Usage: node graphiql_csp.mjs <graphql url> <path to playwright-core>
import { createRequire } from "node:module";

const [url, playwrightPath] = process.argv.slice(2);
const { chromium } = createRequire(import.meta.url)(playwrightPath);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
const result = { requested: [], violations: [], errors: [], probeBlocked: false };
try {
  const page = await browser.newPage();
  await page.route("https://unpkg.com/**", (route) => {
    result.requested.push(route.request().url());
    const css = route.request().url().endsWith(".css");
    return route.fulfill({ status: 200, contentType: css ? "text/css" : "text/javascript", body: "" });
  });
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  page.on("pageerror", (err) => result.errors.push(err.message));
  await page.goto(url, { waitUntil: "load" });
  result.violations = await page.evaluate(() => [...window.__violations]);
  // A script injected now must be refused: proves violations are seen at all.
  result.probeBlocked = await page.evaluate(async () => {
    window.__probe = false;
    const s = document.createElement("script");
    s.textContent = "window.__probe = true";
    document.body.appendChild(s);
    await new Promise((r) => setTimeout(r, 100));
    return window.__probe === false && window.__violations.length > 0;
  });
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
