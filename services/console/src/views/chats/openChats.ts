// The open chats a WatchOpenChats stream describes: the snapshot it starts with, then each
// chat again when it changes and its removal when it closes. A restarted stream's snapshot
// replaces the list only once complete, so a reconnect never blanks the table.
import type { OpenChat, WatchOpenChatsResponse } from "../../gen/switchboard/supervision/v1/supervision_pb";

// LiveOpenChat is an open chat with the moment it started waiting, in this browser's
// clock: the stream resends a chat only when it changes, so its waiting_seconds is only
// true when received, and the wait shown counts on from there.
export interface LiveOpenChat {
  chat: OpenChat;
  queuedAt: Date;
}

export interface OpenChatsState {
  chats: Record<string, LiveOpenChat>;
  // next collects a (re)started stream's snapshot; null once it is done.
  next: Record<string, LiveOpenChat> | null;
  // ready is true once a first snapshot is complete.
  ready: boolean;
}

export const noOpenChats: OpenChatsState = { chats: {}, next: null, ready: false };

// restart starts collecting a new stream's snapshot.
export function restart(s: OpenChatsState): OpenChatsState {
  return { ...s, next: {} };
}

export function applyOpenChat(s: OpenChatsState, r: WatchOpenChatsResponse, receivedAt = new Date()): OpenChatsState {
  if (r.snapshotDone) return { chats: s.next ?? s.chats, next: null, ready: true };
  const id = r.chat?.conversation?.id;
  if (!id || !r.chat) return s;
  const target = s.next ?? s.chats;
  const updated = { ...target };
  if (r.removed) delete updated[id];
  else updated[id] = { chat: r.chat, queuedAt: new Date(receivedAt.getTime() - Number(r.chat.waitingSeconds) * 1000) };
  return s.next ? { ...s, next: updated } : { ...s, chats: updated };
}

const activity = (c: LiveOpenChat) => {
  const t = c.chat.conversation?.lastActivityAt;
  return t ? Number(t.seconds) * 1000 + t.nanos / 1e6 : 0;
};

// byLastActivity lists the chats, most recent activity first.
export function byLastActivity(chats: Record<string, LiveOpenChat>): LiveOpenChat[] {
  return Object.values(chats).sort((a, b) => activity(b) - activity(a));
}
