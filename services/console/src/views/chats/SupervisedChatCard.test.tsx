import { describe, expect, it, vi } from "vitest";
import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { create } from "@bufbuild/protobuf";
import { AuthorKind, AuthorSchema, ConversationState, EventSchema, SystemEventKind, type Event } from "../../gen/switchboard/chat/v1/chat_pb";
import { applyEvent, emptyTranscript, type TranscriptState } from "../../ui/transcript";
import { SupervisedChatCard, type SupervisedChatActions } from "./SupervisedChatCard";
import { agents, conversation, evilName } from "./fixtures";

const visitor = create(AuthorSchema, { kind: AuthorKind.VISITOR, id: "v1", displayName: "Vera" });
const agent = create(AuthorSchema, { kind: AuthorKind.AGENT, id: "alice", displayName: "Alice Martin" });
const supervisor = create(AuthorSchema, { kind: AuthorKind.SUPERVISOR, id: "sam", displayName: "Sam" });
const message = (seq: number, author = visitor, text = `m${seq}`): Event => create(EventSchema, { seq: BigInt(seq), author, payload: { case: "message", value: { text } } });
const draft = (author = agent, text = "Let me ch"): Event => create(EventSchema, { seq: 0n, author, payload: { case: "draft", value: { text } } });
const closed = (seq: number): Event => create(EventSchema, { seq: BigInt(seq), payload: { case: "system", value: { kind: SystemEventKind.CLOSED } } });
const fold = (...events: Event[]): TranscriptState => events.reduce(applyEvent, emptyTranscript);

function actions(over: Partial<SupervisedChatActions> = {}): SupervisedChatActions {
  return {
    whisper: vi.fn(async () => {}),
    transfer: vi.fn(async () => {}),
    finish: vi.fn(async () => {}),
    stop: vi.fn(async () => {}),
    ...over,
  };
}

function card(state = fold(message(1)), a = actions(), c = conversation("a", { visitorName: "Vera" })) {
  render(<SupervisedChatCard conversation={c} transcript={{ state, status: "live", error: "" }} agents={agents} units={["sales", "support"]} actions={a} />);
  return { a, section: screen.getByRole("region", { name: `Chat with ${c.visitorName || "Anonymous visitor"}` }) };
}

describe("SupervisedChatCard", () => {
  it("shows the chat with its agent, unit and state, the agent's draft greyed and whispers marked", () => {
    const { section } = card(fold(message(1), message(2, supervisor, "offer the discount"), draft()));
    expect(section.textContent).toContain("Alice Martin");
    expect(section.textContent).toContain("sales");
    expect(section.textContent).toContain("Active");
    const log = within(section).getByRole("log", { name: "Messages" });
    const d = log.querySelector('[data-kind="draft"]')!;
    expect(d.getAttribute("data-author")).toBe("agent");
    expect(d.textContent).toContain("Alice Martin is writing:");
    expect(d.textContent).toContain("Let me ch");
    expect(log.querySelector('[data-kind="whisper"]')!.textContent).toContain("Whisper from Sam");
  });

  it("sends a whisper with Ctrl+Enter and clears the composer", async () => {
    const { a } = card();
    const box = screen.getByRole("textbox", { name: "Whisper to agent" });
    fireEvent.change(box, { target: { value: "ask for the order number" } });
    await act(async () => {
      fireEvent.keyDown(box, { key: "Enter", ctrlKey: true });
    });
    expect(a.whisper).toHaveBeenCalledWith(expect.any(String), "ask for the order number");
    expect((box as HTMLTextAreaElement).value).toBe("");
  });

  it("retries a failed whisper under the same id, and a new whisper under a new one", async () => {
    const whisper = vi.fn().mockRejectedValueOnce(new Error("the network is down")).mockResolvedValue(undefined);
    card(undefined, actions({ whisper }));
    const box = screen.getByRole("textbox", { name: "Whisper to agent" });
    fireEvent.change(box, { target: { value: "hello" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Whisper" })));
    expect(screen.getByRole("alert").textContent).toContain("the network is down");
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Whisper" })));
    expect(whisper.mock.calls[1][0]).toBe(whisper.mock.calls[0][0]);
    fireEvent.change(box, { target: { value: "second" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Whisper" })));
    expect(whisper.mock.calls[2][0]).not.toBe(whisper.mock.calls[0][0]);
  });

  it("transfers through a dialog listing the unit's agents with their load and other units", async () => {
    const { a } = card();
    fireEvent.click(screen.getByRole("button", { name: "Transfer" }));
    const dialog = screen.getByRole("dialog");
    const select = within(dialog).getByLabelText("Transfer to") as HTMLSelectElement;
    const labels = Array.from(select.options).map((o) => o.text);
    expect(labels).toContain("Bob Stone — 1/4, busy");
    expect(labels).toContain("support (queue)");
    expect(labels.some((l) => l.startsWith("Alice"))).toBe(false); // the current agent
    expect(labels.some((l) => l.startsWith("Carol"))).toBe(false); // another unit's agent
    fireEvent.change(select, { target: { value: "agent:bob" } });
    fireEvent.change(within(dialog).getByLabelText("Note (optional)"), { target: { value: "speaks German" } });
    await act(async () => fireEvent.click(within(dialog).getByRole("button", { name: "Confirm transfer" })));
    expect(a.transfer).toHaveBeenCalledWith({ agent: "bob" }, "speaks German");
    expect(screen.queryByRole("dialog")).toBeNull();
  });

  it("closes the transfer dialog on Escape and keeps it open with the server's error", async () => {
    card(undefined, actions({ transfer: vi.fn().mockRejectedValue(new Error("agent bob is at capacity")) }));
    fireEvent.click(screen.getByRole("button", { name: "Transfer" }));
    fireEvent.keyDown(screen.getByLabelText("Transfer to"), { key: "Escape" });
    expect(screen.queryByRole("dialog")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Transfer" }));
    fireEvent.change(screen.getByLabelText("Transfer to"), { target: { value: "unit:support" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Confirm transfer" })));
    expect(within(screen.getByRole("dialog")).getByRole("alert").textContent).toBe("agent bob is at capacity");
  });

  it("finishes only after confirmation", async () => {
    const { a } = card();
    fireEvent.click(screen.getByRole("button", { name: "Finish" }));
    expect(a.finish).not.toHaveBeenCalled();
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Finish conversation" })));
    expect(a.finish).toHaveBeenCalledWith("");
  });

  it("shows an ended chat as ended, without composer, and lets it be removed", async () => {
    const { a, section } = card(fold(message(1), closed(2)));
    expect(within(section).getByRole("status").textContent).toContain("This conversation has ended");
    expect(within(section).queryByRole("textbox", { name: "Whisper to agent" })).toBeNull();
    expect(within(section).queryByRole("button", { name: "Finish" })).toBeNull();
    await act(async () => fireEvent.click(within(section).getByRole("button", { name: "Stop supervising" })));
    expect(a.stop).toHaveBeenCalled();
  });

  it("knows a closed conversation from the list before its stream says so", () => {
    const { section } = card(fold(message(1)), actions(), conversation("c", { visitorName: "Vera", state: ConversationState.CLOSED }));
    expect(section.textContent).toContain("Ended");
  });

  it("renders names and messages as text, never as HTML", () => {
    const evil = create(AuthorSchema, { kind: AuthorKind.VISITOR, id: "v2", displayName: evilName });
    const { section } = card(fold(message(1, evil, evilName)), actions(), conversation("e", { visitorName: evilName }));
    expect(section.querySelector("img")).toBeNull();
    expect(within(section).getByRole("heading").textContent).toBe(evilName);
  });
});
