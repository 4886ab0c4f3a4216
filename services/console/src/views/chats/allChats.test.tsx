import { describe, expect, it, vi } from "vitest";
import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ConversationState, Thumb } from "../../gen/switchboard/chat/v1/chat_pb";
import { ChatStateFilter, ChatSummarySchema, ExportChatsResponseSchema, Sentiment } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { ChatFilters } from "./ChatFilters";
import { ChatsTable } from "./ChatsTable";
import { ChatDetailView } from "./ChatDetailView";
import { ExportControl } from "./ExportControl";
import { filterFromQuery, filterToQuery, noFilter, toChatFilter } from "./chatFilter";
import { collectCsv } from "./exportCsv";
import { csvTranscript, parseCsv } from "./transcriptCsv";
import { agents, conversation, evilName } from "./fixtures";

describe("the all-chats filter", () => {
  it("survives the query string", () => {
    const f = { ...noFilter, unit: "sales", text: "refund & delay", thumb: "down" as const };
    expect(filterFromQuery(filterToQuery(f))).toEqual(f);
    expect(filterToQuery(noFilter)).toBe("");
  });
  it("becomes SearchChats' filter, the To day included", () => {
    const f = toChatFilter({ ...noFilter, from: "2026-11-01", to: "2026-11-02", csatMin: "4", thumb: "up", sentiment: "negative", state: "closed", text: "  refund " });
    expect(timestampDate(f.from!).getTime()).toBe(new Date(2026, 10, 1).getTime());
    expect(timestampDate(f.to!).getTime()).toBe(new Date(2026, 10, 3).getTime());
    expect(f.csatMin).toBe(4);
    expect(f.csatMax).toBe(0);
    expect(f.thumb).toBe(Thumb.UP);
    expect(f.sentiment).toBe(Sentiment.NEGATIVE);
    expect(f.state).toBe(ChatStateFilter.CLOSED);
    expect(f.text).toBe("refund");
  });
});

describe("ChatFilters", () => {
  it("searches with what the panel holds", () => {
    const onSearch = vi.fn();
    render(<ChatFilters initial={noFilter} units={["sales", "support"]} agents={agents} onSearch={onSearch} />);
    fireEvent.change(screen.getByLabelText("Search text"), { target: { value: "invoice" } });
    fireEvent.change(screen.getByLabelText("Business unit"), { target: { value: "support" } });
    fireEvent.change(screen.getByLabelText("Agent"), { target: { value: "carol" } });
    fireEvent.change(screen.getByLabelText("From"), { target: { value: "2026-11-01" } });
    fireEvent.change(screen.getByLabelText("Sentiment"), { target: { value: "positive" } });
    fireEvent.click(screen.getByRole("button", { name: "Search" }));
    expect(onSearch).toHaveBeenCalledWith({ ...noFilter, text: "invoice", unit: "support", agent: "carol", from: "2026-11-01", sentiment: "positive" });
  });
  it("refuses a range that ends before it starts", () => {
    const onSearch = vi.fn();
    render(<ChatFilters initial={{ ...noFilter, from: "2026-11-05", to: "2026-11-01" }} units={[]} agents={[]} onSearch={onSearch} />);
    expect(screen.getByRole("alert").textContent).toContain("before");
    expect((screen.getByRole("button", { name: "Search" }) as HTMLButtonElement).disabled).toBe(true);
  });
});

describe("ChatsTable", () => {
  const summary = (id: string, fields = {}) =>
    create(ChatSummarySchema, { conversation: conversation(id, { state: ConversationState.CLOSED }), csat: 4, thumb: Thumb.DOWN, sentiment: Sentiment.NEGATIVE, messages: 12, ...fields });
  it("shows each conversation with its rating and links to its transcript", () => {
    const onOpen = vi.fn();
    render(<ChatsTable chats={[summary("a")]} agents={agents} href={(id) => `/t/acme/chats/${id}`} onOpen={onOpen} />);
    const table = screen.getByRole("table", { name: "Conversations" });
    const link = within(table).getByRole("link", { name: "Visitor a" });
    expect(link.getAttribute("href")).toBe("/t/acme/chats/a");
    const row = link.closest("tr")!;
    expect(row.textContent).toContain("4/5");
    expect(row.textContent).toContain("Thumb down");
    expect(row.querySelector(".sentiment-negative")!.textContent).toBe("Negative");
    fireEvent.click(link);
    expect(onOpen).toHaveBeenCalledWith("a");
  });
  it("renders a visitor's name as text, never as HTML", () => {
    render(<ChatsTable chats={[summary("x", { conversation: conversation("x", { visitorName: evilName }) })]} agents={[]} href={(id) => id} onOpen={() => {}} />);
    expect(document.querySelector("img")).toBeNull();
    expect(screen.getByRole("link", { name: evilName })).toBeTruthy();
  });
});

// readText reads a Blob as jsdom allows (its Blob has no text()).
function readText(blob: Blob): Promise<string> {
  return new Promise((resolve) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result as string);
    r.readAsText(blob);
  });
}

describe("CSV export", () => {
  async function* pieces() {
    yield create(ExportChatsResponseSchema, { csv: new TextEncoder().encode("conversation_id,agent\n"), rows: 0n });
    yield create(ExportChatsResponseSchema, { csv: new TextEncoder().encode("a,alice\nb,bob\n"), rows: 2n });
  }
  it("gathers the streamed pieces into one file, telling rows and bytes as they come", async () => {
    const seen: { rows: number; bytes: number }[] = [];
    const blob = await collectCsv(pieces(), (p) => seen.push(p), 0);
    expect(await readText(blob)).toBe("conversation_id,agent\na,alice\nb,bob\n");
    expect(seen.at(-1)).toEqual({ rows: 2, bytes: 36 });
    expect(seen.length).toBeGreaterThan(1);
  });
  it("shows progress with a way to cancel while running, and the result at the end", () => {
    const onCancel = vi.fn();
    const { rerender } = render(<ExportControl state={{ phase: "running", progress: { rows: 12345, bytes: 2_500_000 } }} onStart={() => {}} onCancel={onCancel} />);
    expect(screen.getByRole("status").textContent).toContain("12,345 rows, 2.5 MB");
    fireEvent.click(screen.getByRole("button", { name: "Cancel export" }));
    expect(onCancel).toHaveBeenCalled();
    rerender(<ExportControl state={{ phase: "done", progress: { rows: 3, bytes: 90 }, file: "chats.csv" }} onStart={() => {}} onCancel={onCancel} />);
    expect(screen.getByRole("button", { name: "Export CSV" })).toBeTruthy();
    expect(screen.getByRole("status").textContent).toBe("Exported 3 rows, 90 B to chats.csv.");
    rerender(<ExportControl state={{ phase: "failed", error: "you hold AllChats on none of these business units" }} onStart={() => {}} onCancel={onCancel} />);
    expect(screen.getByRole("alert").textContent).toContain("AllChats");
  });
});

const exported = [
  "seq,time,author_kind,author,kind,text",
  "1,2026-11-23T09:00:00Z,system,,system,started  sales",
  "2,2026-11-23T09:00:00Z,system,,system,assigned alice sales",
  "3,2026-11-23T09:00:01Z,visitor,Vera,message,\"Hello, my order \"\"42\"\"\nis late\"",
  "4,2026-11-23T09:00:05Z,supervisor,Sam,whisper,'-offer 10%",
  `5,2026-11-23T09:00:09Z,agent,Alice,message,${evilName}`,
  "6,2026-11-23T09:01:00Z,system,,system,closed alice sales resolved by the agent",
  "",
].join("\r\n");

describe("a transcript from its CSV export", () => {
  it("reads quoted cells with commas, quotes and line breaks", () => {
    expect(parseCsv('a,"b,c","d""e"\n"f\ng",h\n')).toEqual([
      ["a", "b,c", 'd"e'],
      ["f\ng", "h"],
    ]);
  });
  it("becomes messages, whispers and system lines, formula guards undone", () => {
    const t = csvTranscript(exported);
    expect(t.entries.map((e) => [e.kind, e.author, e.text])).toEqual([
      ["system", "system", "Conversation started in sales"],
      ["system", "system", "Assigned to alice"],
      ["message", "visitor", 'Hello, my order "42"\nis late'],
      ["whisper", "supervisor", "-offer 10%"],
      ["message", "agent", evilName],
      ["system", "system", "Conversation ended (resolved by the agent)"],
    ]);
    expect(t.closed).toBe(true);
  });
});

describe("ChatDetailView", () => {
  function detail(onSend = vi.fn(async () => {})) {
    render(
      <ChatDetailView
        visitor="Vera"
        agents={agents}
        transcript={csvTranscript(exported)}
        loading={false}
        error=""
        backHref="/t/acme/chats"
        onBack={() => {}}
        onSend={onSend}
      />,
    );
    return onSend;
  }
  it("shows the transcript, whispers marked, users' text never as HTML", () => {
    detail();
    const log = screen.getByRole("log", { name: "Messages" });
    expect(log.querySelector("img")).toBeNull();
    expect(log.textContent).toContain(evilName);
    expect(log.querySelector('[data-kind="whisper"]')!.textContent).toContain("Whisper from Sam");
  });
  it("sends the transcript by email and says so", async () => {
    const onSend = detail();
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "vera@example.com" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Send transcript" })));
    expect(onSend).toHaveBeenCalledWith("vera@example.com");
    expect(screen.getByText(/Transcript sent to vera@example.com/)).toBeTruthy();
  });
  it("shows why a transcript could not be sent", async () => {
    detail(vi.fn().mockRejectedValue(new Error("this tenant has no mail relay configured (Tenant spec.smtp)")));
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "vera@example.com" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Send transcript" })));
    expect(screen.getByRole("alert").textContent).toContain("no mail relay");
  });
});
