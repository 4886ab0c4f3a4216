import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/react";
import { create } from "@bufbuild/protobuf";
import { AuthorKind, AuthorSchema, ConversationState } from "../../gen/switchboard/chat/v1/chat_pb";
import { MessagePreviewSchema, WatchOpenChatsResponseSchema, type OpenChat } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { SignalLevel } from "../../gen/switchboard/supervision/v1/signal_pb";
import { OpenChatsView } from "./OpenChatsView";
import { applyOpenChat, byLastActivity, noOpenChats, restart, type LiveOpenChat } from "./openChats";
import { agents, conversation, evilName, openChat } from "./fixtures";

const at = (min: number) => new Date(Date.UTC(2026, 10, 23, 9, min));
const now = at(30);

// live is a chat as the stream state holds it, received just now.
const live = (chat: OpenChat): LiveOpenChat => ({ chat, queuedAt: new Date(now.getTime() - Number(chat.waitingSeconds) * 1000) });

function view(open = [openChat(conversation("a"))], extra: Partial<Parameters<typeof OpenChatsView>[0]> = {}) {
  const chats = open.map(live);
  const onSupervise = vi.fn();
  const onFilter = vi.fn();
  render(
    <OpenChatsView
      chats={chats}
      ready
      units={["sales", "support"]}
      agents={agents}
      filter={{ unit: "", agent: "" }}
      onFilter={onFilter}
      canSupervise={(u) => u === "sales"}
      onSupervise={onSupervise}
      now={now}
      {...extra}
    />,
  );
  return { onSupervise, onFilter };
}

const msg = (fields: Parameters<typeof create<typeof WatchOpenChatsResponseSchema>>[1]) => create(WatchOpenChatsResponseSchema, fields);

describe("open chats from the stream", () => {
  it("shows the snapshot once complete, then changes and removals", () => {
    let s = restart(noOpenChats);
    s = applyOpenChat(s, msg({ chat: openChat(conversation("a")) }));
    expect(s.ready).toBe(false);
    s = applyOpenChat(s, msg({ snapshotDone: true }));
    expect(Object.keys(s.chats)).toEqual(["a"]);
    s = applyOpenChat(s, msg({ chat: openChat(conversation("b")) }));
    s = applyOpenChat(s, msg({ chat: openChat(conversation("a")), removed: true }));
    expect(Object.keys(s.chats)).toEqual(["b"]);
  });
  it("keeps the table while a restarted stream sends its snapshot", () => {
    let s = applyOpenChat(restart(noOpenChats), msg({ chat: openChat(conversation("a")) }));
    s = applyOpenChat(s, msg({ snapshotDone: true }));
    s = applyOpenChat(restart(s), msg({ chat: openChat(conversation("b")) }));
    expect(Object.keys(s.chats)).toEqual(["a"]);
    s = applyOpenChat(s, msg({ snapshotDone: true }));
    expect(Object.keys(s.chats)).toEqual(["b"]);
  });
  it("sorts by last activity, most recent first", () => {
    const chats = Object.fromEntries(
      [conversation("old", {}, at(1)), conversation("new", {}, at(20)), conversation("mid", {}, at(10))].map((c) => [c.id, live(openChat(c))]),
    );
    expect(byLastActivity(chats).map((c) => c.chat.conversation!.id)).toEqual(["new", "mid", "old"]);
  });
});

describe("OpenChatsView", () => {
  it("lists chats in a table named Open chats, with unit, agent and how long ago", () => {
    view([openChat(conversation("a", {}, at(27)))]);
    const row = within(screen.getByRole("table", { name: "Open chats" })).getByText("Visitor a").closest("tr")!;
    expect(row.textContent).toContain("sales");
    expect(row.textContent).toContain("Alice Martin");
    expect(row.textContent).toContain("3m 00s ago");
  });
  it("marks an inactive chat and shows signal levels by colour", () => {
    view([openChat(conversation("a"), { inactive: true, levels: [SignalLevel.CRITICAL] }), openChat(conversation("b"), { levels: [SignalLevel.WARNING] })]);
    const rowA = screen.getByText("Visitor a").closest("tr")!;
    const rowB = screen.getByText("Visitor b").closest("tr")!;
    expect(within(rowA).getByText("Inactive").className).toContain("badge");
    expect(rowA.querySelector(".badge.critical")).not.toBeNull();
    expect(within(rowB).queryByText("Inactive")).toBeNull();
    expect(rowB.querySelector(".badge.warning")).not.toBeNull();
  });
  it("counts a queued chat's wait on from when the stream said it", () => {
    const queued = openChat(conversation("q", { state: ConversationState.QUEUED, agent: "" }), { waitingSeconds: 75n });
    const s = applyOpenChat(applyOpenChat(restart(noOpenChats), msg({ chat: queued }), at(29)), msg({ snapshotDone: true }));
    render(
      <OpenChatsView chats={byLastActivity(s.chats)} ready units={[]} agents={agents} filter={{ unit: "", agent: "" }} onFilter={() => {}} canSupervise={() => true} onSupervise={() => {}} now={now} />,
    );
    const row = screen.getByText("Visitor q").closest("tr")!;
    expect(row.textContent).toContain("2m 15s");
    expect(row.textContent).toContain("Nobody yet");
  });
  it("supervises a chat with its button, named after the visitor", () => {
    const chat = openChat(conversation("a"));
    const { onSupervise } = view([chat]);
    fireEvent.click(screen.getByRole("button", { name: "Supervise chat with Visitor a" }));
    expect(onSupervise).toHaveBeenCalledWith(chat);
  });
  it("disables Supervise where the user may not supervise", () => {
    view([openChat(conversation("s", { businessUnit: "support" }))]);
    expect((screen.getByRole("button", { name: "Supervise chat with Visitor s" }) as HTMLButtonElement).disabled).toBe(true);
  });
  it("renders a visitor's name as text, never as HTML", () => {
    view([openChat(conversation("x", { visitorName: evilName }))]);
    expect(document.querySelector("img")).toBeNull();
    expect(screen.getByText(evilName)).toBeTruthy();
    expect(screen.getByRole("button", { name: `Supervise chat with ${evilName}` })).toBeTruthy();
  });
  it("shows each chat's last message on one line, as text, with an ellipsis when cut", () => {
    const withLast = (id: string, author: string, text: string, truncated: boolean) => {
      const chat = openChat(conversation(id));
      chat.lastMessage = create(MessagePreviewSchema, { author: create(AuthorSchema, { kind: AuthorKind.AGENT, displayName: author }), text, truncated });
      return chat;
    };
    view([withLast("a", "Alice Martin", "Your parcel ships Monday", true), withLast("e", evilName, evilName, false), openChat(conversation("n"))]);
    const table = screen.getByRole("table", { name: "Open chats" });
    expect(within(table).getByRole("columnheader", { name: "Last message" })).toBeTruthy();
    const cells = Array.from(table.querySelectorAll("td.last-message-cell")).map((td) => td.textContent);
    expect(cells).toEqual(["Alice Martin: Your parcel ships Monday…", `${evilName}: ${evilName}`, "No message yet"]);
    expect(table.querySelector(".last-message")!.className).toContain("lines-1");
    expect(document.querySelector("img")).toBeNull();
  });
  it("filters by unit (clearing the agent) and by agent, offering the unit's agents", () => {
    const { onFilter } = view(undefined, { filter: { unit: "support", agent: "" } });
    const agentSelect = screen.getByLabelText("Agent") as HTMLSelectElement;
    expect(Array.from(agentSelect.options).map((o) => o.text)).toEqual(["All agents", "Bob Stone", "Carol Diaz"]);
    fireEvent.change(agentSelect, { target: { value: "carol" } });
    expect(onFilter).toHaveBeenLastCalledWith({ unit: "support", agent: "carol" });
    fireEvent.change(screen.getByLabelText("Business unit"), { target: { value: "sales" } });
    expect(onFilter).toHaveBeenLastCalledWith({ unit: "sales", agent: "" });
  });
  it("says when nothing is open, and shows the server's error", () => {
    view([], { error: "you hold SuperviseOpenChats on none of these business units" });
    expect(screen.getByText("No open chats.")).toBeTruthy();
    expect(screen.getByRole("alert").textContent).toContain("SuperviseOpenChats");
  });
});

describe("OpenChatsView with a burst of chats", () => {
  it("shows the first hundred rows, and more on request", () => {
    view(Array.from({ length: 130 }, (_, i) => openChat(conversation(`c${i}`))));
    // Counted by selector: role queries over hundreds of rows are slow in jsdom.
    const rows = () => document.querySelectorAll('table[aria-label="Open chats"] tbody tr').length;
    expect(rows()).toBe(100);
    fireEvent.click(screen.getByText("Show 30 more"));
    expect(rows()).toBe(130);
  }, 20_000); // rendering 130 rows takes seconds in jsdom on a busy machine
});
