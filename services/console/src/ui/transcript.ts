// A conversation's transcript as the events of a Subscribe or WatchConversation stream
// build it: stored events once each in sequence order (a resumed stream may repeat some),
// and the live-only ones (typing, drafts) as the current state of each author.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { AuthorKind, SystemEventKind, type Author, type Event } from "../gen/switchboard/chat/v1/chat_pb";

export type AuthorRole = "visitor" | "agent" | "supervisor" | "system";

export interface Entry {
  seq: bigint;
  kind: "message" | "whisper" | "system";
  author: AuthorRole;
  authorId: string;
  name: string;
  text: string;
  at?: Date;
}

export interface Live {
  author: AuthorRole;
  name: string;
  text: string; // the draft's text; empty for typing alone
}

export interface TranscriptState {
  entries: Entry[];
  // lastSeq is the last stored event applied: where a resumed stream starts (after_seq).
  lastSeq: bigint;
  // drafts and typing are by author id.
  drafts: Record<string, Live>;
  typing: Record<string, Live>;
  closed: boolean;
}

export const emptyTranscript: TranscriptState = { entries: [], lastSeq: 0n, drafts: {}, typing: {}, closed: false };

export function authorRole(a: Author | undefined): AuthorRole {
  switch (a?.kind) {
    case AuthorKind.VISITOR:
      return "visitor";
    case AuthorKind.AGENT:
      return "agent";
    case AuthorKind.SUPERVISOR:
      return "supervisor";
    default:
      return "system";
  }
}

function authorKey(a: Author | undefined): string {
  return `${authorRole(a)}:${a?.id ?? ""}`;
}

function without(map: Record<string, Live>, key: string): Record<string, Live> {
  if (!(key in map)) return map;
  const next = { ...map };
  delete next[key];
  return next;
}

// applyEvent returns the transcript with one more event.
export function applyEvent(state: TranscriptState, ev: Event): TranscriptState {
  const role = authorRole(ev.author);
  const key = authorKey(ev.author);
  const name = ev.author?.displayName || defaultName(role);
  switch (ev.payload.case) {
    case "typing": {
      const typing = ev.payload.value.typing ? { ...state.typing, [key]: { author: role, name, text: "" } } : without(state.typing, key);
      return { ...state, typing };
    }
    case "draft": {
      const text = ev.payload.value.text;
      const drafts = text ? { ...state.drafts, [key]: { author: role, name, text } } : without(state.drafts, key);
      return { ...state, drafts };
    }
    case "message":
    case "system": {
      if (ev.seq <= state.lastSeq) return state; // already applied (a resumed stream)
      const entry: Entry =
        ev.payload.case === "message"
          ? { seq: ev.seq, kind: role === "supervisor" ? "whisper" : "message", author: role, authorId: ev.author?.id ?? "", name, text: ev.payload.value.text, at: ev.createdAt && timestampDate(ev.createdAt) }
          : { seq: ev.seq, kind: "system", author: "system", authorId: "", name, text: systemText(ev.payload.value.kind, ev.payload.value.agent, ev.payload.value.businessUnit, ev.payload.value.detail), at: ev.createdAt && timestampDate(ev.createdAt) };
      const closed = state.closed || (ev.payload.case === "system" && ev.payload.value.kind === SystemEventKind.CLOSED);
      // A message ends its author's draft and typing.
      const drafts = ev.payload.case === "message" ? without(state.drafts, key) : state.drafts;
      const typing = ev.payload.case === "message" ? without(state.typing, key) : state.typing;
      return { entries: [...state.entries, entry], lastSeq: ev.seq, drafts, typing, closed };
    }
    default:
      return state;
  }
}

function defaultName(role: AuthorRole): string {
  switch (role) {
    case "visitor":
      return "Visitor";
    case "agent":
      return "Agent";
    case "supervisor":
      return "Supervisor";
    default:
      return "Switchboard";
  }
}

// systemText says what a system event did, for people.
export function systemText(kind: SystemEventKind, agent: string, unit: string, detail: string): string {
  const note = detail ? ` (${detail})` : "";
  switch (kind) {
    case SystemEventKind.STARTED:
      return `Conversation started${unit ? ` in ${unit}` : ""}${note}`;
    case SystemEventKind.QUEUED:
      return `Waiting for an agent${note}`;
    case SystemEventKind.ASSIGNED:
      return `Assigned to ${agent || "an agent"}${note}`;
    case SystemEventKind.ACCEPTED:
      return `${agent || "The agent"} joined${note}`;
    case SystemEventKind.TRANSFERRED:
      return `Transferred to ${agent || unit || "another agent"}${unit && agent ? ` in ${unit}` : ""}${note}`;
    case SystemEventKind.CLOSED:
      return `Conversation ended${note}`;
    case SystemEventKind.RATED:
      return `The visitor rated the conversation${note}`;
    default:
      return detail || "Conversation updated";
  }
}
