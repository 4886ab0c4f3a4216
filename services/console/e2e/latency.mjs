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
  const context = await browser.newContext({ viewport: desktop.viewport });
  // Stamp each message's arrival in the page's own stream too (a copy of every fetch
  // response, read as it comes), to tell the network's share from the rendering's.
  await context.addInitScript((run) => {
    const pattern = new RegExp(`latency probe (\\d+) of run ${run}`, "g");
    window.__arrivedAt = {};
    const fetch = window.fetch.bind(window);
    window.fetch = async (...args) => {
      const res = await fetch(...args);
      if (res.body) {
        const reader = res.clone().body.getReader();
        const decoder = new TextDecoder();
        let tail = "";
        (async () => {
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return;
            const at = performance.timeOrigin + performance.now();
            const text = tail + decoder.decode(value, { stream: true });
            for (const m of text.matchAll(pattern)) window.__arrivedAt[m[1]] ??= at;
            tail = text.slice(-100);
          }
        })().catch(() => {});
      }
      return res;
    };
  }, run);
  const page = await context.newPage();
  await signIn(page, s, "sam");
  await page.goto(consoleURL(s, "/supervised"));
  const chat = page.getByRole("region", { name: `Chat with ${s.visitorName}`, exact: true });
  await visible(chat.getByRole("log", { name: "Messages", exact: true }), `the transcript of "Chat with ${s.visitorName}" in My supervised chats`);

  // The observer reads only what each change added, inside the chat's transcript (looked
  // up again each time, in case the view re-renders it), so its own cost stays flat.
  await page.evaluate(
    ({ label, run }) => {
      const pattern = new RegExp(`latency probe (\\d+) of run ${run}`, "g");
      window.__seenAt = {};
      new MutationObserver((records) => {
        const at = performance.timeOrigin + performance.now();
        const log = document.querySelector(`section[aria-label="${CSS.escape(label)}"] [role="log"]`);
        if (!log) return;
        for (const r of records) {
          const added = r.type === "characterData" ? [r.target] : [...r.addedNodes];
          for (const node of added) {
            if (!log.contains(node) && !node.contains(log)) continue;
            for (const m of (node.textContent ?? "").matchAll(pattern)) window.__seenAt[m[1]] ??= at;
          }
        }
      }).observe(document.body, { childList: true, subtree: true, characterData: true });
    },
    { label: `Chat with ${s.visitorName}`, run },
  );

  const sentAt = [];
  const ackedAt = [];
  const failures = [];
  const sends = [];
  const interval = 1000 / s.perSecond;
  const start = now() + 100;
  for (let i = 0; i < s.messages; i++) {
    const due = start + i * interval;
    if (due > now()) await sleep(due - now());
    sentAt[i] = now();
    sends.push(send(i).then(() => (ackedAt[i] = now()), (err) => failures.push(`message ${i}: ${err.message}`)));
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
  const arrivedAt = await page.evaluate(() => window.__arrivedAt);
  await page.screenshot({ path: join(s.output, "1280x800-supervised-chats-after-latency-run.png") });

  const seen = (i) => seenAt[i] !== undefined;
  const range = (from, to) => Array.from({ length: to - from }, (_, k) => from + k);
  const all = range(0, s.messages);
  const quarter = Math.max(1, Math.floor(s.messages / 4));
  const shown = percentiles(all.filter(seen).map((i) => seenAt[i] - sentAt[i]));
  const arrived = percentiles(all.filter((i) => arrivedAt[i] !== undefined).map((i) => arrivedAt[i] - sentAt[i]));
  const acked = percentiles(all.filter((i) => ackedAt[i] !== undefined).map((i) => ackedAt[i] - sentAt[i]));
  const report = {
    benchmark: "console-supervisor-latency",
    messages: s.messages,
    perSecond: s.perSecond,
    seen: shown.count,
    misses: s.messages - shown.count,
    failedSends: failures.length,
    p50Ms: shown.p50,
    p90Ms: shown.p90,
    p99Ms: shown.p99,
    maxMs: shown.max,
    // Send to the bytes' arrival in the page's stream, before rendering.
    arrivedP50Ms: arrived.p50,
    arrivedP99Ms: arrived.p99,
    // The send call's own round trip (stored and acknowledged by serve), for comparison.
    ackP50Ms: acked.p50,
    ackP99Ms: acked.p99,
    // Whether the supervisor's page slows as the transcript grows.
    firstQuarterP50Ms: percentiles(range(0, quarter).filter(seen).map((i) => seenAt[i] - sentAt[i])).p50,
    lastQuarterP50Ms: percentiles(range(s.messages - quarter, s.messages).filter(seen).map((i) => seenAt[i] - sentAt[i])).p50,
  };
  console.log(`visitor message → watching supervisor's browser, ${s.messages} messages at ${s.perSecond}/s:`);
  console.log(`  p50 ${report.p50Ms} ms   p90 ${report.p90Ms} ms   p99 ${report.p99Ms} ms   max ${report.maxMs} ms   misses ${report.misses}   failed sends ${report.failedSends}`);
  console.log(`  arrived in the page's stream (before rendering): p50 ${report.arrivedP50Ms} ms, p99 ${report.arrivedP99Ms} ms`);
  console.log(`  send acknowledged: p50 ${report.ackP50Ms} ms, p99 ${report.ackP99Ms} ms`);
  console.log(`  shown, p50 of the first quarter of the messages ${report.firstQuarterP50Ms} ms, of the last ${report.lastQuarterP50Ms} ms`);
  for (const f of failures.slice(0, 5)) console.log(`  ${f}`);
  console.log(JSON.stringify(report));
  if (failures.length === s.messages) process.exitCode = 1;
} finally {
  await browser.close();
}

// percentiles are nearest-rank percentiles of durations in ms, rounded to 0.1 ms.
function percentiles(durations) {
  const sorted = [...durations].sort((a, b) => a - b);
  const at = (q) => round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN);
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round(sorted.at(-1) ?? NaN) };
}

function round(ms) {
  return Math.round(ms * 10) / 10;
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
