// Every view of the console, in a real browser at 1280×800 and at phone size (390×844),
// with a screenshot of each: the login and its error for a wrong password, logout, the
// navigation by role, a keyboard-only login and reply in the workspace, the widget's
// offline form where nobody is online, a finished chat's transcript, and nothing wider
// than the screen on a phone.
import {
  Run, agentNavigation, check, consoleURL, containsText, desktop, eventually, goOnline, launch, navLinks,
  noHorizontalOverflow, openView, phone, readScenario, signIn, supervisorViews, viewSettled, visible, widgetFrame,
} from "./lib.mjs";

const s = readScenario();
const run = new Run("views", s.output);

const routes = {
  Board: "/board",
  Agents: "/agents",
  "Open chats": "/open",
  "My supervised chats": "/supervised",
  "All chats": "/chats",
  Reports: "/reports",
  Visitors: "/visitors",
  Workspace: "/workspace",
};
const visitorName = "Kim Keyboard";
const keyboardReply = "Typed and sent with the keyboard alone.";

const browser = await launch();
const newPage = async (name, size) => run.page(name, await (await browser.newContext({ viewport: size.viewport })).newPage());

try {
  const samPage = await newPage("sam", desktop);
  const annPage = await newPage("ann", desktop);
  const visitorPage = await newPage("visitor", desktop);

  await run.section("login", async () => {
    await run.step("the tenant's console asks to sign in", async () => {
      await samPage.goto(consoleURL(s, "/"));
      await visible(samPage.getByRole("form", { name: "Sign in" }), 'the form "Sign in"');
      await run.shot(samPage, desktop, "login");
    });
    await run.step("a wrong password shows the server's error", async () => {
      await samPage.getByLabel("Username", { exact: true }).fill("sam");
      await samPage.getByLabel("Password", { exact: true }).fill("not-the-password");
      await samPage.getByRole("button", { name: "Sign in", exact: true }).click();
      await containsText(await visible(samPage.getByRole("alert"), "an error after a wrong password"), s.wrongPasswordError, "the login's error");
      await run.shot(samPage, desktop, "login error");
    });
  });

  const annOnline = "keyboard: Ann signs in with the keyboard alone and goes online";
  await run.section(annOnline, async () => {
    await run.step("Ann signs in with the keyboard alone", async () => {
      await annPage.goto(consoleURL(s, "/"));
      await tabTo(annPage, annPage.getByLabel("Username", { exact: true }), '"Username"');
      await annPage.keyboard.type("ann");
      await tabTo(annPage, annPage.getByLabel("Password", { exact: true }), '"Password"');
      await annPage.keyboard.type(s.password);
      await annPage.keyboard.press("Enter");
      await visible(annPage.getByRole("navigation", { name: "Views" }), "Ann's navigation after signing in");
    });
    await run.step("an agent's navigation has the workspace and no supervisor view", () => agentNavigation(annPage, "Ann"));
    await run.step("the workspace opens and Ann goes online", async () => {
      await openView(annPage, "Workspace");
      await goOnline(annPage);
      await run.shot(annPage, desktop, "workspace");
    });
  });

  await run.section("offline: the widget of a unit where nobody is online takes a message", async () => {
    await run.step('the widget shows "Leave a message"', async () => {
      await visitorPage.goto(s.site + "?unit=billing");
      const frame = await widgetFrame(visitorPage);
      await frame.getByRole("button", { name: "Chat with us", exact: true }).click();
      await visible(frame.getByText("Leave a message", { exact: true }), 'the offline form "Leave a message"');
      await run.shot(visitorPage, desktop, "widget offline form");
    });
    await run.step('the visitor leaves a message and sees "Message sent"', async () => {
      const frame = await widgetFrame(visitorPage);
      await frame.getByRole("textbox", { name: "Your name", exact: true }).fill("Olga Offline");
      await frame.getByRole("textbox", { name: "Email", exact: true }).fill("olga@example.com");
      await frame.getByRole("textbox", { name: "Message", exact: true }).fill("Please call me back about a group booking.");
      await frame.getByRole("button", { name: "Send message", exact: true }).click();
      await visible(frame.getByText("Message sent"), 'the confirmation "Message sent"');
      await run.shot(visitorPage, desktop, "widget message sent");
    });
  });

  const answered = "keyboard: Ann answers a chat with the keyboard alone";
  await run.section(answered, async () => {
    let frame;
    await run.step("a visitor starts a chat in sales", async () => {
      await visitorPage.goto(s.site + "?unit=sales");
      frame = await widgetFrame(visitorPage);
      await frame.getByRole("button", { name: "Chat with us", exact: true }).click();
      await frame.getByRole("textbox", { name: "Your name", exact: true }).fill(visitorName);
      await frame.getByRole("textbox", { name: "Message", exact: true }).fill("Can I pay by bank transfer?");
      await frame.getByRole("button", { name: "Start chat", exact: true }).click();
      await containsText(frame.getByRole("log", { name: "Messages", exact: true }), "bank transfer", "the visitor's transcript");
    });
    await run.step("Ann reaches the chat with Tab and opens it with Enter", async () => {
      const chat = annPage.getByRole("navigation", { name: "My conversations", exact: true }).getByRole("button", { name: visitorName });
      await visible(chat, `"${visitorName}" in Ann's My conversations`);
      await tabTo(annPage, chat, `the conversation button "${visitorName}"`);
      await annPage.keyboard.press("Enter");
      await visible(annPage.getByRole("region", { name: `Conversation with ${visitorName}`, exact: true }), `the section "Conversation with ${visitorName}"`);
    });
    await run.step("Ann reaches Reply with Tab, types and sends with Enter", async () => {
      const reply = annPage.getByRole("textbox", { name: "Reply", exact: true });
      await tabTo(annPage, reply, 'the "Reply" textarea');
      await annPage.keyboard.type(keyboardReply);
      await annPage.keyboard.press("Enter");
      await containsText(frame.getByRole("log", { name: "Messages", exact: true }), keyboardReply, "the visitor's transcript");
      check((await reply.inputValue()) === "", `"Reply" still holds "${await reply.inputValue()}" after sending`);
      await run.shot(annPage, desktop, "workspace conversation");
      await run.shot(visitorPage, desktop, "widget chat");
    });
  }, [annOnline]);

  const samIn = "Sam signs in";
  await run.section(samIn, async () => {
    await run.step("Sam signs in and sees the supervisor views, not the workspace", async () => {
      await signIn(samPage, s, "sam");
      const links = await navLinks(samPage);
      for (const v of supervisorViews) check(links.includes(v), `Sam's navigation lacks "${v}": ${links.join(", ")}`);
      check(!links.includes("Workspace"), `Sam (not an agent) sees "Workspace": ${links.join(", ")}`);
    });
  });

  for (const view of ["Board", "Agents", "Open chats"]) {
    await run.section(`${view} at 1280×800`, async () => {
      await run.step(`"${view}" opens from the navigation`, async () => {
        await openView(samPage, view);
        await run.shot(samPage, desktop, view);
      }, [samPage]);
    }, [samIn]);
  }

  await run.section("My supervised chats at 1280×800", async () => {
    await run.step("Sam supervises the keyboard chat from Open chats", async () => {
      await openView(samPage, "Open chats");
      await samPage.getByRole("button", { name: `Supervise chat with ${visitorName}`, exact: true }).click();
      if (!new URL(samPage.url()).pathname.endsWith("/supervised")) await openView(samPage, "My supervised chats");
      const chat = await visible(samPage.getByRole("region", { name: `Chat with ${visitorName}`, exact: true }), `the section "Chat with ${visitorName}"`);
      await containsText(chat.getByRole("log", { name: "Messages", exact: true }), keyboardReply, "Sam's transcript");
      await viewSettled(samPage, "My supervised chats");
      await run.shot(samPage, desktop, "My supervised chats");
    });
  }, [samIn, answered]);

  const allChats = "All chats at 1280×800";
  await run.section(allChats, async () => {
    await run.step('"All chats" opens from the navigation and lists the finished chat', async () => {
      await openView(samPage, "All chats");
      await containsText(samPage.locator("main"), s.finishedVisitor, "All chats");
      await run.shot(samPage, desktop, "All chats");
    }, [samPage]);
  }, [samIn]);

  await run.section("a finished chat's transcript at 1280×800", async () => {
    await run.step("the finished chat opens from All chats and shows its messages", async () => {
      await samPage.locator("main").getByRole("link", { name: s.finishedVisitor }).click();
      await eventually(() => samPage.url().endsWith(`/chats/${s.finishedConversation}`), () => `the address is ${samPage.url()}, not the finished chat's`);
      await viewSettled(samPage, "transcript");
      await containsText(samPage.getByRole("log", { name: "Messages", exact: true }), "replacement valve", "the transcript");
      await run.shot(samPage, desktop, "transcript");
    }, [samPage]);
  }, [allChats]);

  for (const view of ["Reports", "Visitors"]) {
    await run.section(`${view} at 1280×800`, async () => {
      await run.step(`"${view}" opens from the navigation`, async () => {
        await openView(samPage, view);
        await run.shot(samPage, desktop, view);
      }, [samPage]);
    }, [samIn]);
  }

  await run.section("logout", async () => {
    await run.step('"Log out" returns to the login, and stays there after a reload', async () => {
      await samPage.getByRole("button", { name: "Log out", exact: true }).click();
      await visible(samPage.getByRole("form", { name: "Sign in" }), 'the form "Sign in" after logging out');
      await samPage.reload();
      await visible(samPage.getByRole("form", { name: "Sign in" }), 'the form "Sign in" after a reload');
    });
  }, [samIn]);

  // Phone size: every view again, by its address (a phone's navigation may fold away),
  // and nothing wider than the screen.
  const samPhone = await newPage("sam at phone size", phone);
  await run.section("login at phone size", async () => {
    await run.step("the login fits the screen", async () => {
      await samPhone.goto(consoleURL(s, "/"));
      await visible(samPhone.getByRole("form", { name: "Sign in" }), 'the form "Sign in"');
      await noHorizontalOverflow(samPhone, "the login");
      await run.shot(samPhone, phone, "login");
    });
    await run.step("Sam signs in", () => signIn(samPhone, s, "sam"));
  });
  for (const view of [...supervisorViews, "transcript"]) {
    await run.section(`${view} at phone size`, async () => {
      await run.step(`"${view}" fits the screen`, async () => {
        const route = view === "transcript" ? `/chats/${s.finishedConversation}` : routes[view];
        await samPhone.goto(consoleURL(s, route));
        await viewSettled(samPhone, view);
        await noHorizontalOverflow(samPhone, view);
        await run.shot(samPhone, phone, view);
      }, [samPhone]);
    }, ["login at phone size"]);
  }

  await run.section("workspace at phone size", async () => {
    const annPhone = await newPage("ann at phone size", phone);
    await run.step("Ann's workspace fits the screen", async () => {
      await signIn(annPhone, s, "ann");
      await annPhone.goto(consoleURL(s, routes.Workspace));
      await viewSettled(annPhone, "Workspace");
      await noHorizontalOverflow(annPhone, "the workspace");
      await run.shot(annPhone, phone, "workspace");
    });
    await run.step("the open conversation fits the screen", async () => {
      await annPhone.getByRole("navigation", { name: "My conversations", exact: true }).getByRole("button", { name: visitorName }).click();
      await visible(annPhone.getByRole("region", { name: `Conversation with ${visitorName}`, exact: true }), `the section "Conversation with ${visitorName}"`);
      await noHorizontalOverflow(annPhone, "the open conversation");
      await run.shot(annPhone, phone, "workspace conversation");
    });
  }, [answered]);

  await run.section("widget at phone size", async () => {
    const visitorPhone = await newPage("visitor at phone size", phone);
    await run.step("the customer's page with the closed widget fits the screen", async () => {
      await visitorPhone.goto(s.site);
      const frame = await widgetFrame(visitorPhone);
      await visible(frame.getByRole("button", { name: "Chat with us", exact: true }), 'the launcher "Chat with us"');
      await noHorizontalOverflow(visitorPhone, "the customer's page");
      await run.shot(visitorPhone, phone, "widget closed");
    });
    await run.step("the open widget fits the screen", async () => {
      const frame = await widgetFrame(visitorPhone);
      await frame.getByRole("button", { name: "Chat with us", exact: true }).click();
      await visible(frame.getByRole("textbox", { name: "Your name", exact: true }), 'the widget\'s "Your name" field');
      await noHorizontalOverflow(visitorPhone, "the customer's page with the open widget");
      await noHorizontalOverflow(frame, "the open widget's frame");
      const box = await visitorPhone.locator('iframe[title="Chat"]').boundingBox();
      check(box && box.x >= 0 && box.x + box.width <= phone.viewport.width + 0.5,
        `the open widget's frame (x ${box?.x}, width ${box?.width}) does not fit the ${phone.viewport.width}px screen`);
      await run.shot(visitorPhone, phone, "widget start form");
    });
  });
} catch (err) {
  run.record("(scenario)", "unexpected error", false, err);
} finally {
  await browser.close();
  run.finish();
}

// tabTo presses Tab until target has the focus, and checks that the focus is visible.
async function tabTo(page, target, what, maxPresses = 60) {
  for (let i = 0; i < maxPresses; i++) {
    if (await target.evaluate((el) => el === document.activeElement)) {
      const ring = await target.evaluate((el) => {
        const st = getComputedStyle(el);
        return { outline: st.outlineStyle !== "none" && parseFloat(st.outlineWidth) > 0, shadow: st.boxShadow !== "none" };
      });
      check(ring.outline || ring.shadow, `${what} has the focus but shows no focus ring (no outline, no box-shadow)`);
      return;
    }
    await page.keyboard.press("Tab");
  }
  const focused = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120));
  throw new Error(`${what} not reached with ${maxPresses} presses of Tab; the focus is on ${focused}`);
}

