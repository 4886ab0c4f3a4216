// What a chat composer needs besides the text box: message ids that make a resend safe,
// and drafts sent at most every few hundred milliseconds.

// newClientMessageId names a message for SendMessage: sending again with the same id never
// stores it twice. getRandomValues works on plain-http pages too, unlike randomUUID.
export function newClientMessageId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// draftInterval is how often a composer reports what is typed (the other side's "typing"
// and staff's view of an agent's draft follow it).
export const draftInterval = 300;

export interface DraftSender {
  // update reports the text typed so far; an empty text says the writer stopped.
  update(text: string): void;
  // sent forgets the draft: the message went out, and the server clears the draft itself.
  sent(): void;
  // stop cancels a report still waiting.
  stop(): void;
}

// throttleDrafts sends the latest text at most once per interval, the last one always,
// and never the same text twice in a row.
export function throttleDrafts(send: (text: string) => void, interval = draftInterval): DraftSender {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastAt = -Infinity;
  let pending: string | null = null;
  let reported = "";
  const fire = () => {
    timer = undefined;
    if (pending === null || pending === reported) {
      pending = null;
      return;
    }
    reported = pending;
    pending = null;
    lastAt = Date.now();
    send(reported);
  };
  const stop = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    pending = null;
  };
  return {
    update(text) {
      pending = text;
      if (timer !== undefined) return;
      const wait = lastAt + interval - Date.now();
      if (wait <= 0) fire();
      else timer = setTimeout(fire, wait);
    },
    sent() {
      stop();
      reported = "";
    },
    stop,
  };
}
