// The agent's desk as its AgentStream builds it: the conversations it holds, each with its
// transcript, unread count and whether it is a new assignment not looked at yet.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  AgentStatus,
  AssignmentChange,
  ConversationState,
  type AgentStreamResponse,
  type Conversation,
} from "../../gen/switchboard/chat/v1/chat_pb";
import { applyEvent, emptyTranscript, type TranscriptState } from "../../ui/transcript";

export interface Chat {
  conversation: Conversation;
  transcript: TranscriptState;
  // unread counts the visitor's messages and whispers not seen yet and not answered yet
  // (after the agent's last message), so that a reload does not count a whole history.
  unread: number;
  // seenSeq is the last event shown to the agent while the chat was open.
  seenSeq: bigint;
  // fresh marks a conversation routed to the agent and not opened yet.
  fresh: boolean;
  // ended says the conversation closed (by the visitor or a supervisor) while held here.
  ended: boolean;
}

export interface Desk {
  chats: Record<string, Chat>;
  // status is the agent's effective status as the server last said it.
  status: AgentStatus;
  // open is the conversation shown, "" for none.
  open: string;
}

export const emptyDesk: Desk = { chats: {}, status: AgentStatus.OFFLINE, open: "" };

export type DeskAction =
  | { type: "update"; update: AgentStreamResponse }
  | { type: "listed"; conversations: Conversation[] }
  | { type: "conversation"; conversation: Conversation }
  | { type: "open"; id: string }
  | { type: "dismiss"; id: string }
  | { type: "offline" };

export function reduceDesk(desk: Desk, a: DeskAction): Desk {
  switch (a.type) {
    case "update":
      return applyUpdate(desk, a.update);
    case "listed":
      return listed(desk, a.conversations);
    case "conversation":
      return desk.chats[a.conversation.id] ? withConversation(desk, a.conversation) : desk;
    case "open": {
      const chat = desk.chats[a.id];
      if (!chat) return { ...desk, open: "" };
      return { ...desk, open: a.id, chats: { ...desk.chats, [a.id]: { ...chat, unread: 0, seenSeq: chat.transcript.lastSeq, fresh: false } } };
    }
    case "dismiss": {
      const chats = { ...desk.chats };
      delete chats[a.id];
      return { ...desk, chats, open: desk.open === a.id ? "" : desk.open };
    }
    case "offline":
      return { ...desk, status: AgentStatus.OFFLINE };
  }
}

function applyUpdate(desk: Desk, u: AgentStreamResponse): Desk {
  switch (u.update.case) {
    case "status":
      return { ...desk, status: u.update.value };
    case "event": {
      const ev = u.update.value;
      const chat = desk.chats[ev.conversationId];
      if (!chat) return desk;
      const transcript = applyEvent(chat.transcript, ev);
      const seenSeq = desk.open === ev.conversationId ? transcript.lastSeq : chat.seenSeq;
      return { ...desk, chats: { ...desk.chats, [ev.conversationId]: { ...chat, transcript, seenSeq, unread: unreadOf(transcript, seenSeq) } } };
    }
    case "assignment": {
      const { change, conversation } = u.update.value;
      if (!conversation) return desk;
      switch (change) {
        case AssignmentChange.OPEN:
        case AssignmentChange.ACCEPTED:
          return desk.chats[conversation.id] ? withConversation(desk, conversation) : addChat(desk, conversation, true);
        case AssignmentChange.REMOVED:
          // Transferred away: it is no longer the agent's to answer.
          return reduceDesk(desk, { type: "dismiss", id: conversation.id });
        case AssignmentChange.CLOSED: {
          const chat = desk.chats[conversation.id];
          if (!chat) return desk;
          return { ...desk, chats: { ...desk.chats, [conversation.id]: { ...chat, conversation, ended: true } } };
        }
      }
      return desk;
    }
  }
  return desk;
}

// listed takes the agent's open conversations as the server lists them (before each
// stream): held chats missing from the list closed or left while the stream was down.
function listed(desk: Desk, conversations: Conversation[]): Desk {
  const ids = new Set(conversations.map((c) => c.id));
  const chats = { ...desk.chats };
  for (const [id, chat] of Object.entries(chats)) {
    if (!ids.has(id) && !chat.ended) chats[id] = { ...chat, ended: true };
  }
  return conversations.reduce((d, c) => (d.chats[c.id] ? withConversation(d, c) : addChat(d, c, false)), { ...desk, chats });
}

function addChat(desk: Desk, c: Conversation, fresh: boolean): Desk {
  const chat: Chat = { conversation: c, transcript: emptyTranscript, unread: 0, seenSeq: 0n, fresh: fresh && desk.open !== c.id, ended: c.state === ConversationState.CLOSED };
  return { ...desk, chats: { ...desk.chats, [c.id]: chat } };
}

function withConversation(desk: Desk, c: Conversation): Desk {
  const chat = desk.chats[c.id];
  return { ...desk, chats: { ...desk.chats, [c.id]: { ...chat, conversation: c, ended: chat.ended || c.state === ConversationState.CLOSED } } };
}

// unreadOf counts the messages and whispers at the end of the transcript that came after
// seenSeq and after the agent's own last message.
function unreadOf(t: TranscriptState, seenSeq: bigint): number {
  let n = 0;
  for (let i = t.entries.length - 1; i >= 0; i--) {
    const e = t.entries[i];
    if (e.seq <= seenSeq || e.author === "agent") break;
    if (e.kind !== "system") n++;
  }
  return n;
}

// lastActivity is when a chat last moved: its last entry, else the conversation's own time.
export function lastActivity(chat: Chat): number {
  const last = chat.transcript.entries[chat.transcript.entries.length - 1];
  if (last?.at) return last.at.getTime();
  const t = chat.conversation.lastActivityAt ?? chat.conversation.createdAt;
  return t ? timestampDate(t).getTime() : 0;
}

// chatsByActivity lists the chats, the most recently active first.
export function chatsByActivity(desk: Desk): Chat[] {
  return Object.values(desk.chats).sort((a, b) => lastActivity(b) - lastActivity(a));
}

// resumeCursors says where the stream resumes each held conversation: after the last
// stored event the transcript has (0 replays the whole story of a conversation not read yet).
export function resumeCursors(desk: Desk): { conversationId: string; afterSeq: bigint }[] {
  return Object.values(desk.chats)
    .filter((c) => !c.ended)
    .map((c) => ({ conversationId: c.conversation.id, afterSeq: c.transcript.lastSeq }));
}

export function visitorName(c: Conversation): string {
  return c.visitorName || "Visitor";
}

// statusChoices are the statuses an agent chooses; Offline closes the agent's stream (the
// server counts an agent online only while its stream is open).
export const statusChoices: { status: AgentStatus; label: string }[] = [
  { status: AgentStatus.AVAILABLE, label: "Available" },
  { status: AgentStatus.BUSY, label: "Busy" },
  { status: AgentStatus.AWAY, label: "Away" },
  { status: AgentStatus.OFFLINE, label: "Offline" },
];
