// A supervised chat, end to end in a real browser: a visitor starts a chat from the widget
// on a customer's site, Ann answers in her workspace while the visitor sees her typing,
// Sam finds the chat in Open chats, supervises it, sees Ann's draft as she types and
// whispers to her; Ann sees the whisper marked as Sam's; Sam transfers the chat to Bob
// and finishes it, and the visitor rates it. The visitor's page must never show, nor
// receive, the whisper or the draft. Then HTML typed into a name and a message must stay
// text for the agent and the supervisor.
import {
  Run, agentNavigation, check, clip, containsText, desktop, eventually, goOnline, launch, navLinks, openView,
  readScenario, recordTraffic, signIn, supervisorViews, visible, widgetFrame,
} from "./lib.mjs";

const s = readScenario();
const run = new Run("chat", s.output);

const visitorName = s.visitorName;
const firstMessage = "Hi! Does the Trailhead 2 tent fit two adults with packs?";
const reply = "It does: two adults, and the vestibule takes both packs.";
const secondReply = "Anything else I can help with?";
const draft = "DRAFT-let-me-check-the-warehouse";
const whisper = "WHISPER-offer-the-footprint-for-free";
const sam = s.people.sam ?? "sam";
const xss = `<img src=x onerror="window.__xss=1">`;

const browser = await launch();
const newPage = async (name) => run.page(name, await (await browser.newContext({ viewport: desktop.viewport })).newPage());

try {
  const visitorContext = await browser.newContext({ viewport: desktop.viewport });
  const visitorPage = run.page("visitor", await visitorContext.newPage());
  const traffic = await recordTraffic(visitorContext, visitorPage);
  const annPage = await newPage("ann");
  const samPage = await newPage("sam");
  const bobPage = await newPage("bob");
  let frame; // the widget's frame on the visitor's page

  const messages = (scope) => scope.getByRole("log", { name: "Messages", exact: true });
  const annConversation = () => annPage.getByRole("region", { name: `Conversation with ${visitorName}`, exact: true });
  const samChat = () => samPage.getByRole("region", { name: `Chat with ${visitorName}`, exact: true });

  // visitorNeverSaw checks the visitor's page, its widget frame and everything they
  // received for the whisper and the draft.
  const visitorNeverSaw = async () => {
    const shown = (await visitorPage.locator("body").textContent()) + "\n" + (await frame.locator("body").textContent());
    const received = await traffic.text();
    for (const secret of [draft, whisper]) {
      const kind = secret === draft ? "Ann's draft" : "Sam's whisper";
      check(!shown.includes(secret), `the visitor's page shows ${kind} ("${secret}")`);
      check(!received.includes(secret), `a response to the visitor's page carried ${kind} ("${secret}")`);
    }
  };

  const annOnline = "Ann signs in to her workspace and goes online";
  const chatting = "the visitor starts a chat from the widget and Ann answers";
  const supervising = "Sam supervises the chat from Open chats";
  const whispering = "Sam whispers to Ann";

  await run.section(annOnline, async () => {
    await run.step("Ann signs in", () => signIn(annPage, s, "ann"));
    await run.step("an agent's navigation has the workspace and no supervisor view", () => agentNavigation(annPage, "Ann"));
    await run.step("the workspace opens", () => openView(annPage, "Workspace"));
    await run.step("Ann sets her status to Online", () => goOnline(annPage));
  });

  await run.section(chatting, async () => {
    await run.step("the customer's page shows the widget's launcher", async () => {
      await visitorPage.goto(s.site);
      frame = await widgetFrame(visitorPage);
      await visible(frame.getByRole("button", { name: "Chat with us", exact: true }), 'the launcher "Chat with us"');
      await run.shot(visitorPage, desktop, "widget closed");
    });
    await run.step("the visitor opens the widget and starts a chat", async () => {
      await frame.getByRole("button", { name: "Chat with us", exact: true }).click();
      const offline = frame.getByText("Leave a message", { exact: true });
      await visible(frame.getByRole("textbox", { name: "Your name", exact: true }).or(offline), 'the widget\'s "Your name" field');
      check(!(await offline.isVisible()), "the widget offers the offline form: Ann is not online for sales");
      await run.shot(visitorPage, desktop, "widget start form");
      await frame.getByRole("textbox", { name: "Your name", exact: true }).fill(visitorName);
      await frame.getByRole("textbox", { name: "Message", exact: true }).fill(firstMessage);
      await frame.getByRole("button", { name: "Start chat", exact: true }).click();
      await containsText(messages(frame), firstMessage, "the visitor's transcript");
    });
    await run.step("the chat arrives in Ann's My conversations and she opens it", async () => {
      await openAssigned(annPage, "Ann");
      await containsText(messages(annConversation()), firstMessage, "Ann's transcript");
    });
    await run.step("Ann replies and the visitor sees the reply", async () => {
      await annConversation().getByRole("textbox", { name: "Reply", exact: true }).fill(reply);
      await annConversation().getByRole("button", { name: "Send", exact: true }).click();
      await containsText(messages(frame), reply, "the visitor's transcript");
      await run.shot(visitorPage, desktop, "widget chat");
      await run.shot(annPage, desktop, "workspace");
    });
    await run.step("the record of the visitor's traffic holds Ann's reply (so it would hold a leak)", async () => {
      await eventually(async () => (await traffic.text()).includes(reply), () => "Ann's reply is not in the recorded responses to the visitor's page");
    });
  }, [annOnline]);

  await run.section(supervising, async () => {
    await run.step("Sam signs in and sees the supervisor views, not the workspace", async () => {
      await signIn(samPage, s, "sam");
      const links = await navLinks(samPage);
      for (const v of supervisorViews) check(links.includes(v), `Sam's navigation lacks "${v}": ${links.join(", ")}`);
      check(!links.includes("Workspace"), `Sam (not an agent) sees "Workspace": ${links.join(", ")}`);
    });
    await run.step("Open chats lists the visitor's chat", async () => {
      await openView(samPage, "Open chats");
      const table = await visible(samPage.getByRole("table", { name: "Open chats", exact: true }), 'the table "Open chats"');
      await containsText(table, visitorName, "the Open chats table");
      await run.shot(samPage, desktop, "open chats");
    });
    await run.step('"Supervise" puts the chat in My supervised chats, live', async () => {
      await samPage.getByRole("button", { name: `Supervise chat with ${visitorName}`, exact: true }).click();
      if (!new URL(samPage.url()).pathname.endsWith("/supervised")) await openView(samPage, "My supervised chats");
      await visible(samChat(), `the section "Chat with ${visitorName}"`);
      await containsText(messages(samChat()), firstMessage, "Sam's transcript of the chat");
      await containsText(messages(samChat()), reply, "Sam's transcript of the chat");
    });
  }, [chatting]);

  await run.section("Ann types: the visitor sees her typing, Sam sees her draft", async () => {
    let typing;
    let typed = false;
    await run.step("the visitor sees the typing indicator while Ann types", async () => {
      const reply = annConversation().getByRole("textbox", { name: "Reply", exact: true });
      await reply.click();
      typing = reply.pressSequentially(draft, { delay: 150 }).then(() => (typed = true), () => {});
      await visible(frame.getByText(/is typing/), 'the widget\'s "… is typing…" indicator');
      await run.shot(visitorPage, desktop, "widget agent typing");
    });
    await run.step("Sam sees Ann's draft, greyed and italic, while she types", async () => {
      const shown = samChat().locator('[data-kind="draft"]');
      await containsText(shown, draft.slice(0, 9), "Sam's transcript's draft entry (data-kind=draft)");
      check(!typed, "Ann's draft reached Sam only after she had stopped typing");
      const look = await shown.first().evaluate((el) => ({ italic: getComputedStyle(el).fontStyle, opacity: getComputedStyle(el).opacity }));
      check(look.italic === "italic" && Number(look.opacity) < 1, `the draft is not greyed and italic: font-style ${look.italic}, opacity ${look.opacity}`);
      await typing;
      await containsText(shown, draft, "Sam's transcript's draft entry once Ann has typed it all");
      await run.shot(samPage, desktop, "supervised chats with draft");
    });
    await run.step("the visitor's page neither shows nor received the draft", visitorNeverSaw);
  }, [supervising]);

  await run.section(whispering, async () => {
    await run.step("Sam sends a whisper and sees it marked as a whisper", async () => {
      await samChat().getByRole("textbox", { name: "Whisper to agent", exact: true }).fill(whisper);
      await samChat().getByRole("button", { name: "Whisper", exact: true }).click();
      await containsText(samChat().locator('[data-kind="whisper"]'), whisper, "Sam's transcript's whisper entry");
    });
    await run.step(`Ann sees the whisper marked "Whisper from ${sam}"`, async () => {
      const entry = annConversation().locator('[data-kind="whisper"][data-author="supervisor"]');
      await containsText(entry, whisper, "Ann's transcript's whisper entry (data-kind=whisper, data-author=supervisor)");
      await containsText(entry, `Whisper from ${sam}`, "Ann's whisper entry");
      await run.shot(annPage, desktop, "workspace with whisper");
    });
    await run.step("Ann drops her draft and sends another reply, which the visitor sees", async () => {
      await annConversation().getByRole("textbox", { name: "Reply", exact: true }).fill("");
      await annConversation().getByRole("textbox", { name: "Reply", exact: true }).fill(secondReply);
      await annConversation().getByRole("button", { name: "Send", exact: true }).click();
      await containsText(messages(frame), secondReply, "the visitor's transcript");
    });
    // Events reach the visitor in order, so after the later reply a whisper would be there.
    await run.step("the visitor's page neither shows nor received the whisper or the draft", visitorNeverSaw);
  }, [supervising]);

  await run.section("Sam transfers the chat to Bob and finishes it; the visitor rates it", async () => {
    await run.step("Bob signs in and goes online", async () => {
      await signIn(bobPage, s, "bob");
      await agentNavigation(bobPage, "Bob");
      await openView(bobPage, "Workspace");
      await goOnline(bobPage);
    });
    await run.step("Sam transfers the chat to Bob", async () => {
      await samChat().getByRole("button", { name: "Transfer", exact: true }).click();
      const dialog = await visible(samPage.getByRole("dialog"), "the transfer dialog");
      const target = dialog.getByRole("combobox", { name: "Transfer to", exact: true });
      await visible(target, 'the "Transfer to" select');
      const bob = s.people.bob ?? "bob";
      const option = await eventually(
        () => target.evaluate((el, bob) => [...el.options].find((o) => o.text.includes(bob))?.value, bob),
        () => `"Transfer to" offers no ${bob}`,
      ).catch(async (err) => {
        throw new Error(`${err.message}; its options: ${(await target.locator("option").allTextContents()).join(" | ")}`);
      });
      await target.selectOption(option);
      await run.shot(samPage, desktop, "supervised chats transfer dialog");
      await dialog.getByRole("button", { name: "Confirm transfer", exact: true }).click();
      await dialog.waitFor({ state: "hidden" });
    });
    await run.step("the chat arrives in Bob's workspace with its history", async () => {
      await openAssigned(bobPage, "Bob");
      const conversation = bobPage.getByRole("region", { name: `Conversation with ${visitorName}`, exact: true });
      await containsText(messages(conversation), firstMessage, "Bob's transcript");
      await run.shot(bobPage, desktop, "workspace after transfer");
    });
    await run.step("the chat leaves Ann's conversations", async () => {
      const mine = annPage.getByRole("navigation", { name: "My conversations", exact: true }).getByRole("button", { name: visitorName });
      await mine.waitFor({ state: "detached" }).catch(() => {
        throw new Error(`"${visitorName}" is still in Ann's My conversations after the transfer`);
      });
    });
    await run.step("Sam finishes the chat and the visitor is asked for a rating", async () => {
      await samChat().getByRole("button", { name: "Finish", exact: true }).click();
      await samPage.getByRole("button", { name: "Finish conversation", exact: true }).click();
      await visible(ratingForm(frame), 'the widget\'s "Rate this conversation" form');
      await run.shot(visitorPage, desktop, "widget rating form");
    });
    await run.step("the visitor rates the chat with stars, criteria and a comment", async () => {
      const groups = frame.getByRole("radiogroup");
      const names = await groups.evaluateAll((els) => els.map((e) => e.getAttribute("aria-label") ?? e.textContent.trim().slice(0, 40)));
      check(names.some((n) => n.startsWith("Rating")), `no radio group "Rating" in the rating form; groups: ${names.join(" | ")}`);
      for (let i = 0; i < names.length; i++) await pick(groups.nth(i).getByRole("radio").last());
      await frame.getByRole("textbox", { name: "Comment", exact: true }).fill("Fast and friendly, thank you.");
      await frame.getByRole("button", { name: "Send rating", exact: true }).click();
      await frame.getByRole("button", { name: "Send rating", exact: true }).waitFor({ state: "hidden" }).catch(async () => {
        throw new Error(`the rating form stays after "Send rating": ${clip(await frame.locator("body").textContent())}`);
      });
      await run.shot(visitorPage, desktop, "widget rated");
    });
    await run.step("at the end, the visitor's page neither shows nor received the whisper or the draft", visitorNeverSaw);
  }, [whispering]);

  await run.section("HTML typed into a name and a message stays text", async () => {
    const page = await newPage("visitor with html");
    let conversation;
    await run.step("a visitor named with HTML starts a chat with an HTML message", async () => {
      await page.goto(s.site);
      const f = await widgetFrame(page);
      await f.getByRole("button", { name: "Chat with us", exact: true }).click();
      await f.getByRole("textbox", { name: "Your name", exact: true }).fill(xss);
      await f.getByRole("textbox", { name: "Message", exact: true }).fill(`${xss} is my message`);
      await f.getByRole("button", { name: "Start chat", exact: true }).click();
      await containsText(messages(f), `${xss} is my message`, "the visitor's transcript");
      await noInjection(f, "the widget");
    });
    await run.step("the agent who gets it sees the name and message as text", async () => {
      const agents = [annPage, bobPage];
      const button = (p) => p.getByRole("navigation", { name: "My conversations", exact: true }).getByRole("button", { name: xss });
      const agentPage = await eventually(async () => {
        for (const p of agents) if ((await button(p).count()) > 0) return p;
      }, () => `neither Ann's nor Bob's My conversations lists a visitor named ${xss}`);
      await button(agentPage).click();
      conversation = agentPage.getByRole("region", { name: `Conversation with ${xss}`, exact: true });
      await containsText(messages(conversation), `${xss} is my message`, "the agent's transcript");
      await noInjection(agentPage, "the agent's workspace");
    });
    await run.step("Sam sees the name as text in Open chats and the message in My supervised chats", async () => {
      if (!(await samPage.getByRole("navigation", { name: "Views" }).isVisible())) await signIn(samPage, s, "sam");
      if (await samPage.getByRole("dialog").isVisible()) await samPage.keyboard.press("Escape"); // left by a failed step
      await openView(samPage, "Open chats");
      await containsText(samPage.getByRole("table", { name: "Open chats", exact: true }), xss, "the Open chats table");
      await noInjection(samPage, "Open chats");
      await samPage.getByRole("button", { name: `Supervise chat with ${xss}`, exact: true }).click();
      if (!new URL(samPage.url()).pathname.endsWith("/supervised")) await openView(samPage, "My supervised chats");
      const chat = samPage.getByRole("region", { name: `Chat with ${xss}`, exact: true });
      await containsText(messages(chat), `${xss} is my message`, "Sam's transcript");
      await noInjection(samPage, "My supervised chats");
      await run.shot(samPage, desktop, "supervised chats with html as text");
    });
  }, [annOnline]);
} catch (err) {
  run.record("(scenario)", "unexpected error", false, err);
} finally {
  await browser.close();
  run.finish();
}

// openAssigned waits for the visitor's chat in an agent's My conversations and opens it.
async function openAssigned(page, who) {
  const list = page.getByRole("navigation", { name: "My conversations", exact: true });
  const button = await visible(list.getByRole("button", { name: visitorName }), `"${visitorName}" in ${who}'s My conversations`);
  await button.click();
  await visible(page.getByRole("region", { name: `Conversation with ${visitorName}`, exact: true }), `the section "Conversation with ${visitorName}"`);
}

function ratingForm(frame) {
  return frame.getByRole("form", { name: "Rate this conversation" }).or(frame.getByText("Rate this conversation", { exact: true }));
}

// pick checks a radio, also one styled as a star over a hidden input.
async function pick(radio) {
  await radio.check({ timeout: 2000 }).catch(() => radio.evaluate((el) => el.click()));
  check(await radio.isChecked(), `the radio ${clip(await radio.evaluate((el) => el.outerHTML), 120)} does not stay checked`);
}

// noInjection checks that typed HTML did not become elements or run.
async function noInjection(target, where) {
  await new Promise((r) => setTimeout(r, 300)); // an injected image's onerror fires at once
  const { xssRan, images } = await target.evaluate(() => ({ xssRan: window.__xss !== undefined, images: document.querySelectorAll('img[src="x"]').length }));
  check(!xssRan, `typed HTML ran script in ${where} (window.__xss is set)`);
  check(images === 0, `typed HTML became ${images} <img> element(s) in ${where}`);
}
