import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import { create } from "@bufbuild/protobuf";
import { AuthorKind, AuthorSchema, EventSchema, SystemEventKind, type Event } from "../gen/switchboard/chat/v1/chat_pb";
import { applyEvent, emptyTranscript, type TranscriptState } from "./transcript";
import { Transcript } from "./Transcript";

const visitor = create(AuthorSchema, { kind: AuthorKind.VISITOR, id: "v1", displayName: "Vera" });
const agent = create(AuthorSchema, { kind: AuthorKind.AGENT, id: "alice", displayName: "Alice" });
const supervisor = create(AuthorSchema, { kind: AuthorKind.SUPERVISOR, id: "sam", displayName: "Sam" });

const message = (seq: number, author = visitor, text = `m${seq}`): Event =>
  create(EventSchema, { seq: BigInt(seq), author, payload: { case: "message", value: { text } } });
const draft = (seq: number, author: typeof agent, text: string): Event => create(EventSchema, { seq: BigInt(seq), author, payload: { case: "draft", value: { text } } });
const typing = (seq: number, author: typeof agent, on: boolean): Event => create(EventSchema, { seq: BigInt(seq), author, payload: { case: "typing", value: { typing: on } } });

const fold = (...events: Event[]): TranscriptState => events.reduce(applyEvent, emptyTranscript);

describe("transcript state", () => {
  it("keeps each stored event once when a resumed stream repeats it", () => {
    const s = fold(message(1), message(2), message(2), message(1), message(3));
    expect(s.entries.map((e) => e.text)).toEqual(["m1", "m2", "m3"]);
    expect(s.lastSeq).toBe(3n);
  });
  it("makes a supervisor's message a whisper", () => {
    expect(fold(message(1, supervisor, "psst")).entries[0].kind).toBe("whisper");
  });
  it("ends a draft and typing when their author's message arrives", () => {
    let s = fold(message(1), typing(1, agent, true), draft(1, agent, "Hello th"));
    expect(Object.values(s.drafts).map((d) => d.text)).toEqual(["Hello th"]);
    expect(Object.keys(s.typing)).toHaveLength(1);
    s = applyEvent(s, message(2, agent, "Hello there"));
    expect(s.drafts).toEqual({});
    expect(s.typing).toEqual({});
  });
  it("does not record a live event as stored", () => {
    const s = fold(message(1), draft(1, agent, "x"), message(2));
    expect(s.entries).toHaveLength(2);
  });
  it("notices the close", () => {
    const closed = create(EventSchema, { seq: 2n, payload: { case: "system", value: { kind: SystemEventKind.CLOSED } } });
    expect(fold(message(1), closed).closed).toBe(true);
  });
});

describe("Transcript", () => {
  it("renders what users typed as text, never as HTML", () => {
    const evil = create(AuthorSchema, { kind: AuthorKind.VISITOR, id: "v2", displayName: '<b id="bold">Eve</b>' });
    const { container } = render(<Transcript state={fold(message(1, evil, '<img src=x onerror="window.__xss=1">'))} viewer="agent" />);
    expect(container.querySelector("img")).toBeNull();
    expect(container.querySelector("#bold")).toBeNull();
    expect(screen.getByRole("log", { name: "Messages" }).textContent).toContain('<img src=x onerror="window.__xss=1">');
    expect(screen.getByText('<b id="bold">Eve</b>')).toBeTruthy();
  });
  it("marks a whisper as a supervisor's", () => {
    const { container } = render(<Transcript state={fold(message(1), message(2, supervisor, "offer the discount"))} viewer="agent" />);
    const whisper = container.querySelector('[data-kind="whisper"]')!;
    expect(whisper.getAttribute("data-author")).toBe("supervisor");
    expect(whisper.textContent).toContain("Whisper from Sam");
    expect(whisper.textContent).toContain("offer the discount");
  });
  it("shows drafts to staff only", () => {
    const s = fold(message(1), draft(1, agent, "Let me check"));
    const staff = render(<Transcript state={s} viewer="supervisor" showDrafts />);
    expect(staff.container.querySelector('[data-kind="draft"]')?.textContent).toContain("Alice is writing:Let me check");
    staff.unmount();
    const visitorView = render(<Transcript state={s} viewer="visitor" />);
    expect(visitorView.container.textContent).not.toContain("Let me check");
  });
  it("shows who is typing", () => {
    render(<Transcript state={fold(message(1), typing(1, agent, true))} viewer="visitor" />);
    expect(screen.getByText("Alice is typing…")).toBeTruthy();
  });
  it("puts the viewer's side on the right", () => {
    const s = fold(message(1), message(2, agent, "hi"));
    const { container } = render(<Transcript state={s} viewer="visitor" />);
    const [fromVisitor, fromAgent] = container.querySelectorAll('[data-kind="message"]');
    expect(fromVisitor.classList.contains("right")).toBe(true);
    expect(fromAgent.classList.contains("right")).toBe(false);
  });
});
