import { describe, expect, it, vi } from "vitest";
import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { create } from "@bufbuild/protobuf";
import {
  AuthorKind,
  AuthorSchema,
  EventSchema,
  GetAvailabilityResponseSchema,
  RatingCriterion,
  SystemEventKind,
  Thumb,
  type Event,
} from "../gen/switchboard/chat/v1/chat_pb";
import { applyEvent, emptyTranscript, type TranscriptState } from "../ui/transcript";
import { ChatView } from "./ChatView";
import { AvailableView, Launcher } from "./Widget";
import { RatingForm } from "./forms";
import { loadChat, placeFrom, saveChat } from "./place";

const visitor = create(AuthorSchema, { kind: AuthorKind.VISITOR, id: "v1", displayName: "Vera" });
const agent = create(AuthorSchema, { kind: AuthorKind.AGENT, id: "alice", displayName: "Alice" });
const message = (seq: number, author = visitor, text = `m${seq}`): Event =>
  create(EventSchema, { seq: BigInt(seq), author, payload: { case: "message", value: { text } } });
const fold = (...events: Event[]): TranscriptState => events.reduce(applyEvent, emptyTranscript);
const noop = async () => {};

function chatView(state: TranscriptState, over: Partial<Parameters<typeof ChatView>[0]> = {}) {
  const props = { state, status: "live" as const, error: "", send: vi.fn(noop), draft: vi.fn(noop), onEnd: vi.fn(noop), onRate: vi.fn(noop), onNewChat: vi.fn(), ...over };
  render(<ChatView {...props} />);
  return props;
}

describe("what the widget offers", () => {
  const availability = (agentsOnline: boolean, acceptsOfflineMessages: boolean, open = true) =>
    create(GetAvailabilityResponseSchema, { agentsOnline, acceptsOfflineMessages, open, displayName: "Sales" });

  it("offers a chat while an agent is online", async () => {
    const onStart = vi.fn(noop);
    render(<AvailableView availability={availability(true, true)} greeting="" onStart={onStart} onLeave={noop} />);
    fireEvent.change(screen.getByLabelText("Your name"), { target: { value: "Vera" } });
    fireEvent.change(screen.getByLabelText("Message"), { target: { value: "Do you ship to Norway?" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Start chat" }));
    });
    expect(onStart).toHaveBeenCalledWith({ name: "Vera", message: "Do you ship to Norway?" });
  });
  it("offers to leave a message when nobody is online, then says it was sent", async () => {
    const onLeave = vi.fn(noop);
    render(<AvailableView availability={availability(false, true)} greeting="" onStart={noop} onLeave={onLeave} />);
    const form = screen.getByRole("form", { name: "Leave a message" });
    fireEvent.change(within(form).getByLabelText("Your name"), { target: { value: "Vera" } });
    fireEvent.change(within(form).getByLabelText("Email"), { target: { value: "vera@example.com" } });
    fireEvent.change(within(form).getByLabelText("Message"), { target: { value: "Call me" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Send message" }));
    });
    expect(onLeave).toHaveBeenCalledWith({ name: "Vera", email: "vera@example.com", message: "Call me" });
    expect(screen.getByText("Message sent")).toBeTruthy();
  });
  it("shows the server's error when a message cannot be left", async () => {
    render(<AvailableView availability={availability(false, true)} greeting="" onStart={noop} onLeave={() => Promise.reject(new Error("email: not an email address"))} />);
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "x@y" } });
    fireEvent.change(screen.getByLabelText("Message"), { target: { value: "hi" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Send message" }));
    });
    expect(screen.getByRole("alert").textContent).toBe("email: not an email address");
  });
  it("says the unit is closed when it takes no offline messages", () => {
    render(<AvailableView availability={availability(false, false, false)} greeting="" onStart={noop} onLeave={noop} />);
    expect(screen.getByRole("status").textContent).toContain("closed");
    expect(screen.queryByRole("button")).toBeNull();
  });
});

describe("the chat", () => {
  it("shows the agent typing, and the messages as text", () => {
    const typing = create(EventSchema, { seq: 1n, author: agent, payload: { case: "typing", value: { typing: true } } });
    chatView(fold(message(1, visitor, "<img src=x onerror=alert(1)>"), typing));
    const log = screen.getByRole("log", { name: "Messages" });
    expect(log.querySelector("img")).toBeNull();
    expect(log.textContent).toContain("<img src=x onerror=alert(1)>");
    expect(screen.getByText("Alice is typing…")).toBeTruthy();
  });
  it("sends with Send and ends the chat with End chat", async () => {
    const p = chatView(fold(message(1)));
    fireEvent.change(screen.getByRole("textbox", { name: "Message" }), { target: { value: "thanks" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Send" }));
    });
    expect(p.send).toHaveBeenCalledWith("thanks", expect.any(String));
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "End chat" }));
    });
    expect(p.onEnd).toHaveBeenCalled();
  });
  it("asks for a rating once the conversation ended", () => {
    const closed = create(EventSchema, { seq: 2n, payload: { case: "system", value: { kind: SystemEventKind.CLOSED } } });
    chatView(fold(message(1), closed));
    expect(screen.getByRole("form", { name: "Rate this conversation" })).toBeTruthy();
    expect(screen.queryByRole("textbox", { name: "Message" })).toBeNull();
  });
});

describe("RatingForm", () => {
  it("rates with stars, criteria, a thumb and a comment, then thanks", async () => {
    const onRate = vi.fn(noop);
    render(<RatingForm onRate={onRate} />);
    const rating = screen.getByRole("radiogroup", { name: "Rating" });
    expect(within(rating).getAllByRole("radio")).toHaveLength(5);
    fireEvent.click(within(rating).getByRole("radio", { name: "4 stars" }));
    fireEvent.click(within(screen.getByRole("radiogroup", { name: "Welcome" })).getByRole("radio", { name: "5 stars" }));
    fireEvent.click(screen.getByRole("radio", { name: "Thumbs up" }));
    fireEvent.change(screen.getByLabelText("Comment"), { target: { value: "quick and kind" } });
    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Send rating" }));
    });
    expect(onRate).toHaveBeenCalledWith({
      csat: 4,
      thumb: Thumb.UP,
      criteria: [{ criterion: RatingCriterion.WELCOME, score: 5 }],
      comment: "quick and kind",
    });
    expect(screen.getByText("Thanks for your rating")).toBeTruthy();
  });
  it("cannot send an empty rating", () => {
    render(<RatingForm onRate={noop} />);
    expect((screen.getByRole("button", { name: "Send rating" }) as HTMLButtonElement).disabled).toBe(true);
  });
});

describe("the launcher", () => {
  it("opens the chat and shows how many agent messages came while closed", () => {
    const onOpen = vi.fn();
    render(<Launcher unread={2} onOpen={onOpen} />);
    const button = screen.getByRole("button", { name: "Chat with us" });
    expect(button.textContent).toContain("2");
    fireEvent.click(button);
    expect(onOpen).toHaveBeenCalled();
  });
});

describe("the frame's place and memory", () => {
  it("reads the key, unit and page from its URL", () => {
    expect(placeFrom("?key=wk_1&unit=sales&page=https%3A%2F%2Fshop.example%2Fa%3Fb%3D1&title=Shop")).toEqual({
      widgetKey: "wk_1",
      unit: "sales",
      pageUrl: "https://shop.example/a?b=1",
      pageTitle: "Shop",
    });
  });
  it("works without memory when the browser refuses a third-party frame its storage", () => {
    const p = placeFrom("?key=wk_1&unit=sales");
    const real = Object.getOwnPropertyDescriptor(window, "sessionStorage")!;
    Object.defineProperty(window, "sessionStorage", { configurable: true, get: () => { throw new DOMException("Access is denied for this document.", "SecurityError"); } });
    try {
      expect(() => saveChat(p, { conversationId: "c1", visitorToken: "t" })).not.toThrow();
      expect(loadChat(p)).toBeNull();
    } finally {
      Object.defineProperty(window, "sessionStorage", real);
    }
  });
  it("keeps the chat in progress for the tab, to resume after a reload", () => {
    const p = placeFrom("?key=wk_1&unit=sales");
    saveChat(p, { conversationId: "c1", visitorToken: "t" });
    expect(loadChat(p)).toEqual({ conversationId: "c1", visitorToken: "t" });
    saveChat(p, null);
    expect(loadChat(p)).toBeNull();
  });
});
