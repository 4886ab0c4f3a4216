// What the frame knows of where it runs (from its URL, set by widget.js), what the visitor's
// browser keeps for it, and how it asks widget.js for its size.

export interface Place {
  widgetKey: string;
  unit: string;
  // pageUrl and pageTitle are the site's page the widget is on; empty when unknown.
  pageUrl: string;
  pageTitle: string;
}

export function placeFrom(search: string): Place {
  const q = new URLSearchParams(search);
  return { widgetKey: q.get("key") ?? "", unit: q.get("unit") ?? "", pageUrl: q.get("page") ?? "", pageTitle: q.get("title") ?? "" };
}

// The visitor key identifies a returning visitor: it is kept for good (per widget key).
const visitorKeyName = (p: Place) => `switchboard.visitor.${p.widgetKey}`;

export function loadVisitorKey(p: Place): string {
  return read(local, visitorKeyName(p)) ?? "";
}

export function saveVisitorKey(p: Place, key: string) {
  if (key) write(local, visitorKeyName(p), key);
}

// A chat in progress lives in the tab's session storage, so that a reload resumes it and a
// new tab starts afresh.
export interface ChatSession {
  conversationId: string;
  visitorToken: string;
}

const chatName = (p: Place) => `switchboard.chat.${p.widgetKey}.${p.unit}`;

export function loadChat(p: Place): ChatSession | null {
  const raw = read(session, chatName(p));
  if (!raw) return null;
  try {
    const c = JSON.parse(raw) as ChatSession;
    return typeof c.conversationId === "string" && typeof c.visitorToken === "string" ? c : null;
  } catch {
    return null;
  }
}

export function saveChat(p: Place, c: ChatSession | null) {
  if (c) write(session, chatName(p), JSON.stringify(c));
  else remove(session, chatName(p));
}

const openName = (p: Place) => `switchboard.open.${p.widgetKey}.${p.unit}`;

export function loadOpen(p: Place): boolean {
  return read(session, openName(p)) === "1";
}

export function saveOpen(p: Place, open: boolean) {
  write(session, openName(p), open ? "1" : "0");
}

// tellFrameState asks widget.js (the embedding page) to size the frame for state.
export function tellFrameState(p: Place, state: "open" | "launcher") {
  if (window.parent === window) return;
  let target = "*"; // only the frame's size is said: nothing private
  try {
    if (p.pageUrl) target = new URL(p.pageUrl).origin;
  } catch {
    // an unparsable page URL: keep "*"
  }
  window.parent.postMessage({ type: "switchboard:widget", state }, target);
}

// Storage may be refused (privacy settings, a third-party frame whose storage the browser
// blocks: then even reading the property throws): the widget then works without memory.
type StorageArea = () => Storage;
const local: StorageArea = () => localStorage;
const session: StorageArea = () => sessionStorage;

function read(area: StorageArea, k: string): string | null {
  try {
    return area().getItem(k);
  } catch {
    return null;
  }
}

function write(area: StorageArea, k: string, v: string) {
  try {
    area().setItem(k, v);
  } catch {
    // no memory: see read
  }
}

function remove(area: StorageArea, k: string) {
  try {
    area().removeItem(k);
  } catch {
    // no memory: see read
  }
}
