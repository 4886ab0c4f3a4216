// The open chats a WatchOpenChats stream describes: the snapshot it starts with, then each
// chat again when it changes and its removal when it closes. A restarted stream's snapshot
// replaces the list only once complete, so a reconnect never blanks the table.
import type { OpenChat, WatchOpenChatsResponse } from "../../gen/switchboard/supervision/v1/supervision_pb";

export interface OpenChatsState {
  chats: Record<string, OpenChat>;
  // next collects a (re)started stream's snapshot; null once it is done.
  next: Record<string, OpenChat> | null;
  // ready is true once a first snapshot is complete.
  ready: boolean;
}

export const noOpenChats: OpenChatsState = { chats: {}, next: null, ready: false };

// restart starts collecting a new stream's snapshot.
export function restart(s: OpenChatsState): OpenChatsState {
  return { ...s, next: {} };
}

export function applyOpenChat(s: OpenChatsState, r: WatchOpenChatsResponse): OpenChatsState {
  if (r.snapshotDone) return { chats: s.next ?? s.chats, next: null, ready: true };
  const id = r.chat?.conversation?.id;
  if (!id || !r.chat) return s;
  const target = s.next ?? s.chats;
  const updated = { ...target };
  if (r.removed) delete updated[id];
  else updated[id] = r.chat;
  return s.next ? { ...s, next: updated } : { ...s, chats: updated };
}

const activity = (c: OpenChat) => {
  const t = c.conversation?.lastActivityAt;
  return t ? Number(t.seconds) * 1000 + t.nanos / 1e6 : 0;
};

// byLastActivity lists the chats, most recent activity first.
export function byLastActivity(chats: Record<string, OpenChat>): OpenChat[] {
  return Object.values(chats).sort((a, b) => activity(b) - activity(a));
}
