import { describe, expect, it, vi } from "vitest";
import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { create } from "@bufbuild/protobuf";
import {
  AgentStatus,
  AgentStreamResponseSchema,
  AssignmentChange,
  AuthorKind,
  AuthorSchema,
  ConversationSchema,
  ConversationState,
  EventSchema,
  type AgentStreamResponse,
  type Conversation,
} from "../../gen/switchboard/chat/v1/chat_pb";
import { ConnectError, Code } from "@connectrpc/connect";
import { emptyDesk, reduceDesk, resumeCursors, type Desk } from "./desk";
import { ConversationList } from "./ConversationList";
import { ConversationPane, type PaneActions } from "./ConversationPane";
import { ConnectionNote } from "../Workspace";

const conv = (id: string, visitorName: string, state = ConversationState.ACTIVE): Conversation =>
  create(ConversationSchema, { id, visitorName, businessUnit: "sales", state });
const assignment = (c: Conversation, change = AssignmentChange.OPEN): AgentStreamResponse =>
  create(AgentStreamResponseSchema, { update: { case: "assignment", value: { change, conversation: c } } });
const visitor = create(AuthorSchema, { kind: AuthorKind.VISITOR, id: "v1", displayName: "Vera" });
const supervisor = create(AuthorSchema, { kind: AuthorKind.SUPERVISOR, id: "sam", displayName: "Sam" });
const message = (conversationId: string, seq: number, author = visitor, text = `m${seq}`): AgentStreamResponse =>
  create(AgentStreamResponseSchema, {
    update: { case: "event", value: create(EventSchema, { conversationId, seq: BigInt(seq), author, payload: { case: "message", value: { text } } }) },
  });
const draft = (conversationId: string, text: string): AgentStreamResponse =>
  create(AgentStreamResponseSchema, {
    update: { case: "event", value: create(EventSchema, { conversationId, seq: 1n, author: visitor, payload: { case: "draft", value: { text } } }) },
  });
const fold = (...updates: AgentStreamResponse[]): Desk => updates.reduce((d, update) => reduceDesk(d, { type: "update", update }), emptyDesk);

describe("the agent's desk", () => {
  it("adds a routed conversation marked new, and counts the visitor's messages and whispers unread until opened", () => {
    let d = fold(assignment(conv("c1", "Vera")), message("c1", 1), message("c1", 2, supervisor, "be nice"));
    expect(d.chats.c1.fresh).toBe(true);
    expect(d.chats.c1.unread).toBe(2);
    d = reduceDesk(d, { type: "open", id: "c1" });
    expect(d.chats.c1).toMatchObject({ fresh: false, unread: 0 });
    d = reduceDesk(d, { type: "update", update: message("c1", 3) });
    expect(d.chats.c1.unread).toBe(0);
  });
  it("counts as unread only what came after the agent's last reply", () => {
    const agent = create(AuthorSchema, { kind: AuthorKind.AGENT, id: "alice", displayName: "Alice" });
    const d = fold(assignment(conv("c1", "Vera")), message("c1", 1), message("c1", 2, agent, "hi"), message("c1", 3));
    expect(d.chats.c1.unread).toBe(1);
  });
  it("drops a conversation transferred away and marks a closed one ended", () => {
    let d = fold(assignment(conv("c1", "Vera")), assignment(conv("c2", "Bob")));
    d = reduceDesk(d, { type: "update", update: assignment(conv("c1", "Vera", ConversationState.CLOSED), AssignmentChange.CLOSED) });
    d = reduceDesk(d, { type: "update", update: assignment(conv("c2", "Bob"), AssignmentChange.REMOVED) });
    expect(d.chats.c1.ended).toBe(true);
    expect(d.chats.c2).toBeUndefined();
  });
  it("resumes each held conversation after its last event, and a new one from the start", () => {
    let d = fold(assignment(conv("c1", "Vera")), message("c1", 1), message("c1", 2));
    d = reduceDesk(d, { type: "listed", conversations: [conv("c1", "Vera"), conv("c3", "Cleo")] });
    expect(resumeCursors(d)).toEqual([
      { conversationId: "c1", afterSeq: 2n },
      { conversationId: "c3", afterSeq: 0n },
    ]);
  });
  it("takes the effective status from the stream", () => {
    const d = fold(create(AgentStreamResponseSchema, { update: { case: "status", value: AgentStatus.AWAY } }));
    expect(d.status).toBe(AgentStatus.AWAY);
  });
});

describe("ConversationList", () => {
  it("names each conversation's button by its visitor and shows unread counts and new assignments", () => {
    const d = fold(assignment(conv("c1", "Vera")), message("c1", 1), message("c1", 2), assignment(conv("c2", "Bob")));
    render(<ConversationList desk={reduceDesk(d, { type: "open", id: "c2" })} onOpen={() => {}} />);
    const nav = screen.getByRole("navigation", { name: "My conversations" });
    const vera = within(nav).getByRole("button", { name: "Vera" });
    expect(vera.className).toContain("fresh");
    expect(within(vera).getByText("2").className).toContain("unread");
    expect(within(nav).getByRole("button", { name: "Bob" }).getAttribute("aria-current")).toBe("true");
  });
  it("renders a visitor's name with markup as text", () => {
    const { container } = render(<ConversationList desk={fold(assignment(conv("c1", "<img src=x onerror=alert(1)>")))} onOpen={() => {}} />);
    expect(container.querySelector("img")).toBeNull();
    expect(screen.getByRole("button", { name: "<img src=x onerror=alert(1)>" })).toBeTruthy();
  });
  it("says so when there is no conversation", () => {
    render(<ConversationList desk={emptyDesk} onOpen={() => {}} />);
    expect(screen.getByText(/No conversations yet/)).toBeTruthy();
  });
});

function pane(d: Desk, actions: Partial<PaneActions> = {}) {
  const all: PaneActions = {
    accept: vi.fn(async () => {}),
    send: vi.fn(async () => {}),
    draft: vi.fn(async () => {}),
    transfer: vi.fn(async () => {}),
    close: vi.fn(async () => {}),
    dismiss: vi.fn(),
    back: vi.fn(),
    ...actions,
  };
  render(<ConversationPane chat={d.chats.c1} agentId="alice" units={["sales", "support"]} actions={all} text="" onTextChange={() => {}} />);
  return all;
}

describe("ConversationPane", () => {
  it("shows the transcript with whispers marked and the visitor's draft greyed", () => {
    pane(fold(assignment(conv("c1", "Vera")), message("c1", 1, visitor, "hi"), message("c1", 2, supervisor, "offer the discount"), draft("c1", "and also")));
    const section = screen.getByRole("region", { name: "Conversation with Vera" });
    const log = within(section).getByRole("log", { name: "Messages" });
    const whisper = log.querySelector('[data-kind="whisper"]')!;
    expect(whisper.textContent).toContain("Whisper from Sam");
    expect(whisper.textContent).toContain("offer the discount");
    expect(log.querySelector('[data-kind="draft"][data-author="visitor"]')!.textContent).toContain("and also");
  });
  it("sends on Enter, keeps Shift+Enter for a new line", async () => {
    const a = pane(fold(assignment(conv("c1", "Vera"))));
    const reply = screen.getByRole("textbox", { name: "Reply" });
    fireEvent.change(reply, { target: { value: "Hello" } });
    fireEvent.keyDown(reply, { key: "Enter", shiftKey: true });
    expect(a.send).not.toHaveBeenCalled();
    await act(async () => {
      fireEvent.keyDown(reply, { key: "Enter" });
    });
    expect(a.send).toHaveBeenCalledWith("Hello", expect.stringMatching(/^[0-9a-f]{32}$/));
    expect((reply as HTMLTextAreaElement).value).toBe("");
  });
  it("keeps a failed reply with the error and resends it under the same message id", async () => {
    const send = vi.fn().mockRejectedValueOnce(new ConnectError("conversation is closed", Code.FailedPrecondition)).mockResolvedValueOnce(undefined);
    pane(fold(assignment(conv("c1", "Vera"))), { send });
    const reply = screen.getByRole("textbox", { name: "Reply" });
    fireEvent.change(reply, { target: { value: "Hello" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Send" }));
    });
    expect(screen.getByRole("alert").textContent).toContain("conversation is closed");
    expect((reply as HTMLTextAreaElement).value).toBe("Hello");
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Send" }));
    });
    expect(send).toHaveBeenCalledTimes(2);
    expect(send.mock.calls[1][1]).toBe(send.mock.calls[0][1]);
    expect((reply as HTMLTextAreaElement).value).toBe("");
  });
  it("transfers to the chosen unit, and Escape closes the dialog without a change", async () => {
    const a = pane(fold(assignment(conv("c1", "Vera"))));
    fireEvent.click(screen.getByRole("button", { name: "Transfer" }));
    const dialog = screen.getByRole("dialog");
    fireEvent.keyDown(within(dialog).getByRole("combobox", { name: "Transfer to" }), { key: "Escape" });
    expect(screen.queryByRole("dialog")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Transfer" }));
    fireEvent.change(screen.getByRole("combobox", { name: "Transfer to" }), { target: { value: "unit:support" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Confirm transfer" }));
    });
    expect(a.transfer).toHaveBeenCalledWith({ case: "businessUnit", value: "support" }, "");
    expect(screen.queryByRole("dialog")).toBeNull();
  });
  it("offers Accept for a conversation not accepted yet, and only removal once it ended", () => {
    const a = pane(fold(assignment(conv("c1", "Vera", ConversationState.ASSIGNED))));
    fireEvent.click(screen.getByRole("button", { name: "Accept" }));
    expect(a.accept).toHaveBeenCalled();
  });
  it("shows an ended conversation without a reply box", () => {
    pane(fold(assignment(conv("c1", "Vera")), assignment(conv("c1", "Vera", ConversationState.CLOSED), AssignmentChange.CLOSED)));
    expect(screen.queryByRole("textbox", { name: "Reply" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Close conversation" })).toBeNull();
    expect(screen.getByRole("button", { name: "Remove from list" })).toBeTruthy();
  });
});

describe("ConnectionNote", () => {
  it("says the agent is offline while the stream reconnects", () => {
    render(<ConnectionNote connection="reconnecting" error="" />);
    expect(screen.getByRole("status").textContent).toBe("Offline — reconnecting");
  });
});
