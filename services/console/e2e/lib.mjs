// What the console's browser scenarios share: the browser, steps that say what failed and
// why, signing in, screenshots, and the checks every view must pass. The Go tests of
// services/console/browser start the servers and run a scenario as
// `node e2e/<scenario>.mjs <scenario.json>`.
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const desktop = { name: "1280x800", viewport: { width: 1280, height: 800 } };
export const phone = { name: "390x844", viewport: { width: 390, height: 844 } };

// How long a step waits for what it expects: views answer on loopback in well under a
// second, so ten seconds means it is not coming.
const patience = 10_000;

export function readScenario() {
  const path = process.argv[2];
  if (!path) throw new Error("usage: node <scenario>.mjs <scenario.json>");
  return JSON.parse(readFileSync(path, "utf8"));
}

// launch starts Debian's Chromium; Playwright gives each launch a fresh user-data dir.
export function launch() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

class SectionStopped extends Error {}

// Run records each step's outcome. A step that fails stops the rest of its section (later
// steps build on it) but not the other sections; the summary lists every step.
export class Run {
  constructor(name, output) {
    this.name = name;
    this.output = output;
    this.results = [];
    this.passed = new Set(); // sections whose every step passed
    this.pageErrors = []; // uncaught exceptions in any page, each a defect
    this.section_ = "";
    this.pages = new Map(); // name → page, photographed when a step fails
    this.shots = 0;
    this.policyRefusals = new Map(); // page → what its pages' policies refused
    this.refusalsExpected = new Set(); // pages whose refusals a scenario checks itself
  }

  // page registers a page under a name (used in failure screenshots). Every page and frame
  // is watched for what its Content-Security-Policy (Trusted Types and frame-ancestors
  // included) refuses, each a defect: the console and the widget must work under their
  // real policy. A scenario that provokes refusals passes expectRefusals and reads them
  // with refusals(page).
  page(name, page, { expectRefusals = false } = {}) {
    page.setDefaultTimeout(patience);
    page.on("pageerror", (err) => this.pageErrors.push(`${name}: ${err.message.split("\n")[0]}`));
    const refused = [];
    this.policyRefusals.set(page, refused);
    if (expectRefusals) this.refusalsExpected.add(page);
    // Chromium logs each refusal as an error; the event also names what inline code did.
    page.on("console", (msg) => {
      if (msg.type() === "error" && policyMessage.test(msg.text())) refused.push(`${name}: ${msg.text().split("\n")[0]}`);
    });
    page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) =>
        console.error(`securitypolicyviolation: ${e.effectiveDirective} refused ${e.blockedURI || "inline code"} in ${location.href}${e.sample ? ` (${e.sample})` : ""}`));
    }).catch(() => {}); // the console's own messages still tell
    this.pages.set(name, page);
    return page;
  }

  // refusals lists what the policies of a page and its frames refused so far.
  refusals(page) {
    return this.policyRefusals.get(page) ?? [];
  }

  // section runs body's steps; needs names earlier sections it builds on, and when one of
  // them failed this one is listed as not run.
  async section(name, body, needs = []) {
    this.section_ = name;
    console.log(`\n${name}`);
    const unmet = needs.filter((n) => !this.passed.has(n));
    if (unmet.length) {
      console.log(`  – not run: it needs "${unmet.join('", "')}"`);
      this.results.push({ section: name, step: "(not run)", ok: null, error: "" });
      return;
    }
    try {
      await body();
      this.passed.add(name);
    } catch (err) {
      if (!(err instanceof SectionStopped)) this.record(name, "(section)", false, err);
    }
  }

  // step runs one asserted step; when it fails, the pages in photograph (by default every
  // page) are saved as FAILED-<section>-<step>-<page>.png.
  async step(name, body, photograph = [...this.pages.values()]) {
    const start = Date.now();
    try {
      await body();
      this.record(this.section_, name, true, null, Date.now() - start);
    } catch (err) {
      this.record(this.section_, name, false, err, Date.now() - start);
      await this.photographFailure(name, photograph);
      throw new SectionStopped();
    }
  }

  record(section, step, ok, err, ms = 0) {
    this.results.push({ section, step, ok, error: err ? firstLines(err) : "" });
    if (ok) console.log(`  ✓ ${step} (${ms} ms)`);
    else console.log(`  ✗ ${step}\n      ${firstLines(err).replaceAll("\n", "\n      ")}`);
  }

  async photographFailure(step, pages) {
    for (const [name, page] of this.pages) {
      if (page.isClosed() || !pages.includes(page) || page.url() === "about:blank") continue;
      const file = join(this.output, `FAILED-${slug(this.section_)}-${slug(step)}-${slug(name)}.png`);
      await page.screenshot({ path: file, fullPage: true, timeout: 5000 }).catch(() => {});
    }
  }

  // shot saves a screenshot of a view at a size, named <size>-<view>.png.
  async shot(page, size, view) {
    await page.screenshot({ path: join(this.output, `${size.name}-${slug(view)}.png`), fullPage: true });
    this.shots++;
  }

  // finish prints the summary and sets the exit code.
  finish() {
    this.section_ = "every page";
    console.log(`\n${this.section_}`);
    const errors = [...new Set(this.pageErrors)];
    this.record(this.section_, "no page threw an uncaught exception", errors.length === 0,
      errors.length ? new Error(errors.slice(0, 5).join("\n")) : null);
    const refused = [...new Set([...this.policyRefusals].filter(([page]) => !this.refusalsExpected.has(page)).flatMap(([, r]) => r))];
    this.record(this.section_, "no Content-Security-Policy refused anything", refused.length === 0,
      refused.length ? new Error(refused.slice(0, 5).join("\n")) : null);
    const failed = this.results.filter((r) => r.ok === false);
    const passed = this.results.filter((r) => r.ok).length;
    const notRun = this.results.length - passed - failed.length;
    console.log(`\n${this.name}: ${passed} steps passed, ${failed.length} failed, ${notRun} sections not run; ${this.shots} screenshots in ${this.output}`);
    for (const f of failed) console.log(`  FAILED ${f.section} › ${f.step}: ${f.error.split("\n")[0]}`);
    process.exitCode = failed.length ? 1 : 0;
  }
}

// policyMessage matches what Chromium logs when a Content-Security-Policy, Trusted Types or
// X-Frame-Options refuses something, and the securitypolicyviolation events reported above.
const policyMessage = /Content Security Policy|securitypolicyviolation|Trusted ?Type|X-Frame-Options/i;

function firstLines(err) {
  const text = (err instanceof Error ? err.message : String(err)).replace(/\x1b\[[0-9;]*m/g, ""); // Playwright colours its call logs
  return text.split("\n").slice(0, 12).join("\n");
}

function slug(s) {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

// check fails a step with message when ok is false.
export function check(ok, message) {
  if (!ok) throw new Error(message);
}

// eventually polls probe until it returns a truthy value, and fails with what() (which
// describes the last state seen) after timeout.
export async function eventually(probe, what, timeout = patience) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what(last)} (waited ${timeout / 1000} s)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// visible waits for a locator to show, and names what was missing and where.
export async function visible(locator, what, timeout = patience) {
  try {
    await locator.first().waitFor({ state: "visible", timeout });
  } catch {
    throw new Error(`${what} did not show within ${timeout / 1000} s (locator ${locator})`);
  }
  return locator.first();
}

// containsText waits until a locator's text holds text.
export async function containsText(locator, text, what, timeout = patience) {
  await eventually(
    async () => ((await locator.first().textContent({ timeout: 1000 })) ?? "").includes(text),
    () => `${what}: no "${text}" in it`,
    timeout,
  ).catch(async (err) => {
    const now = await locator.first().textContent({ timeout: 500 }).catch(() => "(not found)");
    throw new Error(`${err.message}\n  its text: ${clip(now)}`);
  });
}

export function clip(s, n = 400) {
  s = (s ?? "").replace(/\s+/g, " ").trim();
  return s.length > n ? s.slice(0, n) + "…" : s;
}

// consoleURL is the tenant's console, optionally at a route ("/workspace").
export function consoleURL(s, route = "/") {
  return `${s.console}/t/${s.tenant}${route}`;
}

// signIn logs a user in through the login form and waits for the navigation.
export async function signIn(page, s, username) {
  await page.goto(consoleURL(s, "/"));
  await page.getByLabel("Username", { exact: true }).fill(username);
  await page.getByLabel("Password", { exact: true }).fill(s.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await visible(page.getByRole("navigation", { name: "Views" }), `${username}'s navigation after signing in`);
}

export const supervisorViews = ["Board", "Agents", "Open chats", "My supervised chats", "All chats", "Reports", "Visitors"];

// agentNavigation checks that an agent's navigation offers the workspace and no
// supervisor view.
export async function agentNavigation(page, who) {
  const links = await navLinks(page);
  check(links.includes("Workspace"), `${who}'s navigation lacks "Workspace": ${links.join(", ")}`);
  for (const v of supervisorViews) check(!links.includes(v), `${who} (an agent) sees "${v}" in the navigation: ${links.join(", ")}`);
}

// goOnline picks the status that takes chats (Online, or Available, as the proto names it).
export async function goOnline(page) {
  const status = await visible(page.getByRole("combobox", { name: "Status", exact: true }), 'the workspace\'s "Status" select');
  const options = await status.locator("option").allTextContents();
  const online = options.find((o) => /online|available/i.test(o));
  check(online, `"Status" has no Online option: ${options.join(" | ")}`);
  await status.selectOption({ label: online });
  await eventually(async () => /online|available/i.test(await status.evaluate((el) => el.selectedOptions[0]?.textContent ?? "")),
    () => `"Status" does not stay on ${online}`);
}

// navLinks lists the navigation's links.
export async function navLinks(page) {
  return (await page.getByRole("navigation", { name: "Views" }).getByRole("link").allTextContents()).map((t) => t.trim());
}

// openView follows the navigation's link to a view and waits until the view is there: not
// the scaffold's placeholder, no error shown, nothing still loading.
export async function openView(page, label) {
  await page.getByRole("navigation", { name: "Views" }).getByRole("link", { name: label, exact: true }).click();
  await viewSettled(page, label);
}

export async function viewSettled(page, label) {
  const main = page.locator("main");
  await visible(main, `the ${label} view`);
  const text = clip(await main.textContent(), 200);
  check(!/is coming\.?$/.test(text), `the ${label} view is still the scaffold's placeholder ("${text}"): not merged yet`);
  await eventually(
    async () => (await page.locator('main [aria-busy="true"]').count()) === 0,
    () => `the ${label} view is still loading (an element has aria-busy="true")`,
  );
  const errors = page.locator("main [role=alert], main .error");
  if ((await errors.count()) > 0 && (await errors.first().isVisible())) {
    throw new Error(`the ${label} view shows an error: ${clip(await errors.first().textContent())}`);
  }
}

// noHorizontalOverflow checks that a page (or frame) is no wider than its window.
export async function noHorizontalOverflow(target, what) {
  const { scrollWidth, innerWidth, culprit } = await target.evaluate(() => {
    // The outermost elements reaching past the right edge point at the culprit.
    const past = [...document.body.querySelectorAll("*")].filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5);
    const describe = (el) => `<${el.tagName.toLowerCase()}${typeof el.className === "string" && el.className ? ` class="${el.className}"` : ""}> ${Math.round(el.getBoundingClientRect().width)}px wide`;
    const culprit = past.filter((el) => !past.includes(el.parentElement)).slice(0, 3).map(describe).join(", ");
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, culprit };
  });
  check(scrollWidth <= innerWidth, `${what} overflows horizontally: scrollWidth ${scrollWidth} > innerWidth ${innerWidth}${culprit ? `; reaching past the edge: ${culprit}` : ""}`);
}

// widgetFrame is the widget's iframe ("Chat") on a customer's page, as a Frame.
export async function widgetFrame(page) {
  const iframe = await visible(page.locator('iframe[title="Chat"]'), 'the widget\'s iframe titled "Chat"');
  const frame = await (await iframe.elementHandle()).contentFrame();
  check(frame, "the widget's iframe has no frame");
  await frame.waitForLoadState("domcontentloaded");
  return frame;
}

// recordTraffic keeps the text of every response a page and its frames receive: the
// bodies Playwright reports once complete, and, through a wrapped fetch in every frame,
// streams as they arrive (a Subscribe stream never completes while the chat is open).
export async function recordTraffic(context, page) {
  await context.addInitScript(() => {
    const fetch = window.fetch.bind(window);
    window.__received = "";
    window.fetch = async (...args) => {
      const res = await fetch(...args);
      if (res.body) {
        const reader = res.clone().body.getReader();
        const decoder = new TextDecoder();
        (async () => {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return;
            window.__received += decoder.decode(value, { stream: true });
          }
        })().catch(() => {});
      }
      return res;
    };
  });
  const bodies = [];
  page.on("response", (res) => {
    res.text().then((t) => bodies.push(`${res.url()}\n${t}`), () => {});
  });
  return {
    // text is everything received so far, by every frame of the page.
    async text() {
      const streamed = await Promise.all(page.frames().map((f) => f.evaluate(() => window.__received ?? "").catch(() => "")));
      return bodies.join("\n") + "\n" + streamed.join("\n");
    },
  };
}
