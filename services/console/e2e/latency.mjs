// How long a visitor's message takes to appear in the browser of a supervisor watching the
// chat in My supervised chats. The visitor sends through the public API (Connect's JSON
// protocol over fetch, with the visitor token of the conversation), at a steady pace; in
// the supervisor's page a MutationObserver stamps the moment each message's text enters
// the DOM. Both clocks are this machine's (performance.timeOrigin + performance.now()).
// Prints a summary and a JSON line; run by `make bench-console`.
import { consoleURL, desktop, launch, readScenario, signIn, visible } from "./lib.mjs";
import { join } from "node:path";

const s = readScenario();
const run = Date.now().toString(36); // tells this run's messages from any earlier ones
const probe = (i) => `latency probe ${i} of run ${run}`;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await launch();
try {
  const page = await (await browser.newContext({ viewport: desktop.viewport })).newPage();
  await signIn(page, s, "sam");
  await page.goto(consoleURL(s, "/supervised"));
  const chat = page.getByRole("region", { name: `Chat with ${s.visitorName}`, exact: true });
  await visible(chat.getByRole("log", { name: "Messages", exact: true }), `the transcript of "Chat with ${s.visitorName}" in My supervised chats`);

  // The observer looks the chat up again on every change, in case the view re-renders it.
  await page.evaluate(
    ({ label, run }) => {
      const pattern = new RegExp(`latency probe (\\d+) of run ${run}`, "g");
      window.__seenAt = {};
      const scan = () => {
        const at = performance.timeOrigin + performance.now();
        const log = document.querySelector(`section[aria-label="${CSS.escape(label)}"] [role="log"]`);
        for (const m of (log?.textContent ?? "").matchAll(pattern)) window.__seenAt[m[1]] ??= at;
      };
      new MutationObserver(scan).observe(document.body, { childList: true, subtree: true, characterData: true });
    },
    { label: `Chat with ${s.visitorName}`, run },
  );

  const sentAt = [];
  const failures = [];
  const sends = [];
  const interval = 1000 / s.perSecond;
  const start = now() + 100;
  for (let i = 0; i < s.messages; i++) {
    const due = start + i * interval;
    if (due > now()) await sleep(due - now());
    sentAt[i] = now();
    sends.push(send(i).catch((err) => failures.push(`message ${i}: ${err.message}`)));
  }
  await Promise.all(sends);

  // Wait for the last arrivals, then take the stamps.
  const deadline = now() + 10_000;
  let seenAt = {};
  while (now() < deadline) {
    seenAt = await page.evaluate(() => window.__seenAt);
    if (Object.keys(seenAt).length >= s.messages) break;
    await sleep(100);
  }
  await page.screenshot({ path: join(s.output, "1280x800-supervised-chats-after-latency-run.png") });

  const latencies = [];
  for (let i = 0; i < s.messages; i++) if (seenAt[i] !== undefined) latencies.push(seenAt[i] - sentAt[i]);
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? NaN;
  const ms = (x) => Math.round(x * 10) / 10;
  const report = {
    benchmark: "console-supervisor-latency",
    messages: s.messages,
    perSecond: s.perSecond,
    seen: latencies.length,
    misses: s.messages - latencies.length,
    failedSends: failures.length,
    p50Ms: ms(at(0.5)),
    p90Ms: ms(at(0.9)),
    p99Ms: ms(at(0.99)),
    maxMs: ms(latencies.at(-1) ?? NaN),
  };
  console.log(`visitor message → watching supervisor's browser, ${s.messages} messages at ${s.perSecond}/s:`);
  console.log(`  p50 ${report.p50Ms} ms   p90 ${report.p90Ms} ms   p99 ${report.p99Ms} ms   max ${report.maxMs} ms   misses ${report.misses}   failed sends ${report.failedSends}`);
  for (const f of failures.slice(0, 5)) console.log(`  ${f}`);
  console.log(JSON.stringify(report));
  if (failures.length === s.messages) process.exitCode = 1;
} finally {
  await browser.close();
}

// send posts one message as the visitor, through Connect's JSON protocol.
async function send(i) {
  const res = await fetch(`${s.console}/switchboard.chat.v1.ChatService/SendMessage`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Connect-Protocol-Version": "1", Authorization: `Bearer ${s.visitorToken}` },
    body: JSON.stringify({ conversationId: s.conversationId, clientMessageId: `${run}-${i}`, text: probe(i) }),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
}
