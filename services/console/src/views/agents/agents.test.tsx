import { describe, expect, it, vi } from "vitest";
import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ConnectError, Code } from "@connectrpc/connect";
import { AgentStatus, AuthorKind, AuthorSchema, ConversationSchema, ConversationState } from "../../gen/switchboard/chat/v1/chat_pb";
import { SignalLevel, SignalSchema } from "../../gen/switchboard/supervision/v1/signal_pb";
import { AgentLoadSchema, MessagePreviewSchema, OpenChatSchema } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { AgentList, loadLevel } from "./AgentList";
import { ChatBoxes, type ChatSeen } from "./ChatBoxes";
import { withChat } from "./AgentChats";
import { selectedAgent, withAgent } from "../Agents";


const now = new Date("2026-11-23T10:00:00Z").getTime();
const ago = (seconds: number) => timestampFromDate(new Date(now - seconds * 1000));
const injection = "<img src=x onerror=alert(1)>";

const agent = (init: Record<string, unknown>) =>
  create(AgentLoadSchema, { agent: "alice", displayName: "Alice", status: AgentStatus.AVAILABLE, statusSince: ago(300), openConversations: 2, capacity: 4, businessUnits: ["sales"], ...init });

const chat = (init: { id: string; name?: string; state?: ConversationState; waiting?: bigint; unit?: string; level?: SignalLevel; inactive?: boolean; last?: string }) =>
  create(OpenChatSchema, {
    conversation: create(ConversationSchema, {
      id: init.id,
      visitorId: "0f9c2a4e-0000-4000-8000-000000000000",
      visitorName: init.name ?? "",
      state: init.state ?? ConversationState.ACTIVE,
      businessUnit: init.unit ?? "sales",
      agent: "alice",
      createdAt: ago(125),
      lastActivityAt: ago(12),
    }),
    waitingSeconds: init.waiting ?? 0n,
    inactive: init.inactive ?? false,
    signals: init.level ? [create(SignalSchema, { id: `s-${init.id}`, level: init.level, summary: "first response 2m10s (critical above 2m)" })] : [],
    lastMessage:
      init.last === undefined
        ? undefined
        : create(MessagePreviewSchema, { author: create(AuthorSchema, { kind: AuthorKind.VISITOR, displayName: init.name ?? "" }), text: init.last, createdAt: ago(12) }),
  });

describe("agent list", () => {
  it("shows each agent's load against capacity as a meter named by the agent", () => {
    render(<AgentList agents={[agent({})]} selected="" onSelect={vi.fn()} now={now} />);
    const meter = screen.getByRole("meter", { name: "Alice" });
    expect(meter.getAttribute("aria-valuenow")).toBe("2");
    expect(meter.getAttribute("aria-valuemax")).toBe("4");
    expect(meter.className).toContain("level-ok");
    expect(screen.getByText("2/4")).toBeTruthy();
    expect(screen.getByText("Available")).toBeTruthy();
    expect(screen.getByText("for 5m 00s")).toBeTruthy();
  });

  it("colours a full agent orange and one over capacity red", () => {
    expect(loadLevel(3, 4)).toBe("ok");
    expect(loadLevel(4, 4)).toBe("warning");
    expect(loadLevel(5, 4)).toBe("critical");
    expect(loadLevel(0, 0)).toBe("ok");
  });

  it("shows an agent's signals as badges of their level", () => {
    const signals = [create(SignalSchema, { id: "1", level: SignalLevel.CRITICAL, summary: "first response 2m10s (critical above 2m)" })];
    render(<AgentList agents={[agent({ signals })]} selected="" onSelect={vi.fn()} now={now} />);
    const list = screen.getByRole("list", { name: "Signals of Alice" });
    expect(within(list).getByText("critical").className).toBe("badge critical");
    expect(within(list).getByText("first response 2m10s (critical above 2m)")).toBeTruthy();
  });

  it("lists agents online first, and opens an agent's conversations from its name", () => {
    const onSelect = vi.fn();
    render(
      <AgentList
        agents={[agent({ agent: "zed", displayName: "Zed", status: AgentStatus.OFFLINE }), agent({ agent: "bob", displayName: "Bob", status: AgentStatus.BUSY }), agent({})]}
        selected="bob"
        onSelect={onSelect}
        now={now}
      />,
    );
    const buttons = screen.getAllByRole("button");
    expect(buttons.map((b) => b.textContent)).toEqual(["Alice", "Bob", "Zed"]);
    expect(screen.getByRole("button", { name: "Bob" }).getAttribute("aria-pressed")).toBe("true");
    fireEvent.click(screen.getByRole("button", { name: "Zed" }));
    expect(onSelect).toHaveBeenCalledWith("zed");
  });

  it("renders an agent's name as text", () => {
    const { container } = render(<AgentList agents={[agent({ displayName: injection })]} selected="" onSelect={vi.fn()} now={now} />);
    expect(screen.getByRole("button", { name: injection })).toBeTruthy();
    expect(container.querySelector("img")).toBeNull();
  });

  it("keeps an agent's place when it changes, and adds a new one", () => {
    const list = [agent({}), agent({ agent: "bob" })];
    const updated = withAgent(list, agent({ openConversations: 3 }));
    expect(updated.map((a) => [a.agent, a.openConversations])).toEqual([
      ["alice", 3],
      ["bob", 2],
    ]);
    expect(withAgent(list, agent({ agent: "carol" })).length).toBe(3);
  });

  it("reads the chosen agent from the route", () => {
    expect(selectedAgent("/agents")).toBe("");
    expect(selectedAgent("/agents/alice%40acme")).toBe("alice@acme");
    expect(selectedAgent("/agents/%E0%A4%A")).toBe("");
  });
});

describe("an agent's conversations", () => {
  const seen = (...chats: ReturnType<typeof chat>[]): ChatSeen[] => chats.map((c) => ({ chat: c, receivedAt: now }));

  it("shows each conversation as a box: visitor, how long, last activity, unit", () => {
    render(<ChatBoxes chats={seen(chat({ id: "c1", name: "Dana" }))} now={now} canSupervise={() => false} onSupervise={vi.fn()} />);
    const box = screen.getByRole("article", { name: "Conversation with Dana" });
    expect(within(box).getByText("Open for").nextSibling?.textContent).toBe("2m 05s");
    expect(within(box).getByText("12s ago")).toBeTruthy();
    expect(within(box).getByText("sales")).toBeTruthy();
    expect(within(box).getByText("Active")).toBeTruthy();
    expect(box.className).toContain("level-ok");
  });

  it("counts a queued conversation's wait on from when it was received", () => {
    const chats = seen(chat({ id: "c1", state: ConversationState.QUEUED, waiting: 30n }));
    const { rerender } = render(<ChatBoxes chats={chats} now={now} canSupervise={() => false} onSupervise={vi.fn()} />);
    expect(screen.getByText("Waiting for").nextSibling?.textContent).toBe("30s");
    rerender(<ChatBoxes chats={chats} now={now + 45_000} canSupervise={() => false} onSupervise={vi.fn()} />);
    expect(screen.getByText("Waiting for").nextSibling?.textContent).toBe("1m 15s");
  });

  it("names an anonymous visitor by its id, and renders what visitors typed as text", () => {
    const { container } = render(
      <ChatBoxes chats={seen(chat({ id: "c1" }), chat({ id: "c2", name: injection }))} now={now} canSupervise={() => false} onSupervise={vi.fn()} />,
    );
    expect(screen.getByRole("article", { name: "Conversation with Visitor 0f9c2a4e" })).toBeTruthy();
    expect(screen.getByRole("heading", { name: injection })).toBeTruthy();
    expect(container.querySelector("img")).toBeNull();
  });

  it("colours a box by its worst signal and marks it inactive", () => {
    render(<ChatBoxes chats={seen(chat({ id: "c1", name: "Dana", level: SignalLevel.CRITICAL, inactive: true }))} now={now} canSupervise={() => false} onSupervise={vi.fn()} />);
    const box = screen.getByRole("article", { name: "Conversation with Dana" });
    expect(box.className).toContain("level-critical");
    expect(within(box).getByText("Inactive")).toBeTruthy();
    expect(within(box).getByText("first response 2m10s (critical above 2m)")).toBeTruthy();
  });

  it("offers Supervise only on units the user supervises, and supervises on click", async () => {
    const onSupervise = vi.fn(async () => {});
    render(
      <ChatBoxes
        chats={seen(chat({ id: "c1", name: "Dana", unit: "sales" }), chat({ id: "c2", name: "Eve", unit: "support" }))}
        now={now}
        canSupervise={(unit) => unit === "sales"}
        onSupervise={onSupervise}
      />,
    );
    expect(within(screen.getByRole("article", { name: "Conversation with Eve" })).queryByRole("button")).toBeNull();
    await act(async () => fireEvent.click(within(screen.getByRole("article", { name: "Conversation with Dana" })).getByRole("button", { name: "Supervise" })));
    expect(onSupervise).toHaveBeenCalledWith("c1");
  });

  it("shows the server's error when supervising fails", async () => {
    const onSupervise = vi.fn(async () => {
      throw new ConnectError("you may not supervise chats of sales", Code.PermissionDenied);
    });
    render(<ChatBoxes chats={seen(chat({ id: "c1", name: "Dana" }))} now={now} canSupervise={() => true} onSupervise={onSupervise} />);
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Supervise" })));
    expect(screen.getByRole("alert").textContent).toBe("you may not supervise chats of sales");
    expect((screen.getByRole("button", { name: "Supervise" }) as HTMLButtonElement).disabled).toBe(false);
  });

  it("shows the last message in its box, as text, and follows a new one", () => {
    const { container, rerender } = render(<ChatBoxes chats={seen(chat({ id: "c1", name: "Dana" }))} now={now} canSupervise={() => false} onSupervise={vi.fn()} />);
    const box = () => screen.getByRole("article", { name: "Conversation with Dana" });
    expect(within(box()).getByText("No message yet")).toBeTruthy();
    rerender(<ChatBoxes chats={seen(chat({ id: "c1", name: "Dana", last: injection }))} now={now} canSupervise={() => false} onSupervise={vi.fn()} />);
    const last = box().querySelector(".last-message")!;
    expect(last.textContent).toBe(`Dana: ${injection}`);
    expect(last.className).toContain("lines-2");
    expect(container.querySelector("img")).toBeNull();
    const list = withChat(seen(chat({ id: "c1", name: "Dana", last: "hello" })), chat({ id: "c1", name: "Dana", last: "where is my parcel?" }), false, now);
    rerender(<ChatBoxes chats={list} now={now} canSupervise={() => false} onSupervise={vi.fn()} />);
    expect(box().querySelector(".last-message")!.textContent).toBe("Dana: where is my parcel?");
  });

  it("updates a conversation in place, adds new ones and drops closed ones", () => {
    const list = seen(chat({ id: "c1" }), chat({ id: "c2" }));
    const inactive = chat({ id: "c1", inactive: true });
    expect(withChat(list, inactive, false, now).map((c) => [c.chat.conversation?.id, c.chat.inactive])).toEqual([
      ["c1", true],
      ["c2", false],
    ]);
    expect(withChat(list, chat({ id: "c3" }), false, now).length).toBe(3);
    expect(withChat(list, chat({ id: "c2" }), true, now).map((c) => c.chat.conversation?.id)).toEqual(["c1"]);
  });
});
