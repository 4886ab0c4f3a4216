// Who may frame what, in a real browser: a customer's site on another origin shows the
// widget of a tenant that allows it (by its origin, and by a *. wildcard), and the visitor
// reaches Switchboard from the frame; the browser refuses the widget's frame on a site the
// tenant does not allow, and refuses to frame the console on any other site.
import { Run, check, desktop, eventually, launch, readScenario, visible, widgetFrame } from "./lib.mjs";

const s = readScenario();
const run = new Run("framing", s.output);
const f = s.framing;

const browser = await launch();
const newPage = async (name, options) => run.page(name, await (await browser.newContext({ viewport: desktop.viewport })).newPage(), options);

// refusedFrame checks that the browser refused the frame titled title on page because of
// its frame-ancestors, and that none of its content showed.
async function refusedFrame(page, title, what) {
  const iframe = page.locator(`iframe[title="${title}"]`).first();
  await iframe.waitFor({ state: "attached" }).catch(() => {
    throw new Error(`${what} put no iframe titled "${title}" on the page`);
  });
  await eventually(
    () => run.refusals(page).find((r) => r.includes("frame-ancestors")),
    () => `no refusal naming frame-ancestors was reported for ${what}; the page's refusals: ${run.refusals(page).join(" | ") || "none"}`,
  );
  // The refusal comes with the response, so the page's content never reaches the frame.
  const frame = await (await iframe.elementHandle()).contentFrame();
  const text = frame ? await frame.locator("body").textContent({ timeout: 1000 }).catch(() => "") : "";
  check(!/Chat with us|Sign in|Tenant/.test(text ?? ""), `${what}: the refused frame (${frame?.url()}) shows "${text}"`);
}

try {
  await run.section("the widget on a site its tenant allows", async () => {
    const page = await newPage("allowed site");
    await run.step("the widget's launcher shows in its frame", async () => {
      await page.goto(f.allowed);
      const frame = await widgetFrame(page);
      await visible(frame.getByRole("button", { name: "Chat with us", exact: true }), 'the launcher "Chat with us" on an allowed site');
      await run.shot(page, desktop, "widget on an allowed site");
    });
    await run.step("the visitor opens it and the frame reaches Switchboard", async () => {
      const frame = await widgetFrame(page);
      await frame.getByRole("button", { name: "Chat with us", exact: true }).click();
      // Nobody is online in this tenant: what the frame learnt from GetAvailability.
      await visible(frame.getByText("Leave a message", { exact: true }), 'the offline form "Leave a message", from the API');
    });
    await run.step("nothing was refused on the allowed site", () => {
      const refused = run.refusals(page);
      check(refused.length === 0, `refused on an allowed site: ${refused.join(" | ")}`);
    });
  });

  await run.section("the widget on a subdomain the tenant allows by wildcard", async () => {
    const page = await newPage("wildcard site");
    await run.step("the widget's launcher shows in its frame", async () => {
      await page.goto(f.wildcard);
      const frame = await widgetFrame(page);
      await visible(frame.getByRole("button", { name: "Chat with us", exact: true }), `the launcher on ${f.wildcard}`);
    });
  });

  await run.section("the widget on a site its tenant does not allow", async () => {
    const page = await newPage("site not allowed", { expectRefusals: true });
    await run.step("the browser refuses the widget's frame", async () => {
      await page.goto(f.refused);
      await refusedFrame(page, "Chat", "widget.js");
    });
    await run.step("the page shows nothing of the refused frame", async () => {
      // widget.js shows its frame once the frame speaks; a refused one never does.
      const iframe = page.locator('iframe[title="Chat"]');
      check(await iframe.isHidden(), "the refused widget frame is visible on the page (a broken frame where the launcher would be)");
      await run.shot(page, desktop, "widget refused on a site not allowed");
    });
  });

  await run.section("the console framed by another site", async () => {
    const page = await newPage("site framing the console", { expectRefusals: true });
    await run.step("the browser refuses to frame the console", async () => {
      await page.goto(f.framesConsole);
      await refusedFrame(page, "Console", "the other site");
    });
  });
} catch (err) {
  run.record("(scenario)", "unexpected error", false, err);
} finally {
  await browser.close();
  run.finish();
}
