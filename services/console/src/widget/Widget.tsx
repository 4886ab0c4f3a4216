// Widget is the visitor's side of Switchboard inside the frame widget.js adds to a site:
// a launcher, then the chat when an agent is online, the offline form when nobody is (and
// the unit takes messages), or a note that the unit is closed.
import { useEffect, useMemo, useRef, useState } from "react";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { ChatService, type GetAvailabilityResponse } from "../gen/switchboard/chat/v1/chat_pb";
import { errorText, makeTransport } from "../transport";
import { newClientMessageId } from "../ui/compose";
import { useTranscript } from "../ui/useTranscript";
import { ChatView } from "./ChatView";
import { OfflineForm, StartForm } from "./forms";
import { chatIconPath } from "./icons";
import { loadChat, loadVisitorKey, saveChat, saveOpen, saveVisitorKey, tellFrameState, type ChatSession, type Place } from "./place";

// Widget takes over the frame from main.tsx's launcher; greeting is the returning
// visitor's name from the page view, if known.
export function Widget({ place, greeting: greeted, initiallyOpen }: { place: Place; greeting: Promise<string>; initiallyOpen: boolean }) {
  const [open, setOpen] = useState(initiallyOpen);
  const [session, setSession] = useState<ChatSession | null>(() => loadChat(place));
  const token = useRef(session?.visitorToken);
  const chat = useMemo(() => createClient(ChatService, makeTransport(() => token.current)), []);
  const [greeting, setGreeting] = useState("");
  const [keptOffline, setKeptOffline] = useState(false);

  useEffect(() => {
    saveOpen(place, open);
    tellFrameState(place, open ? "open" : "launcher");
  }, [place, open]);

  useEffect(() => {
    let live = true;
    void greeted.then((name) => live && setGreeting(name));
    return () => {
      live = false;
    };
  }, [greeted]);

  const setChat = (s: ChatSession | null) => {
    token.current = s?.visitorToken;
    saveChat(place, s);
    setSession(s);
  };

  // A kept chat whose token no longer opens it (expired, or the server forgot it) is dropped.
  useEffect(() => {
    if (!session) return;
    chat.getConversation({ conversationId: session.conversationId }).catch((err) => {
      if (err instanceof ConnectError && [Code.Unauthenticated, Code.NotFound, Code.PermissionDenied].includes(err.code)) setChat(null);
    });
  }, [chat, session?.conversationId]);

  const { state, status, error } = useTranscript(
    session ? (afterSeq, signal) => chat.subscribe({ conversationId: session.conversationId, afterSeq }, { signal }) : null,
    session?.conversationId ?? "",
  );

  // Agent messages that came while the widget was closed show on the launcher.
  const agentMessages = state.entries.filter((e) => e.author === "agent").length;
  const seen = useRef(agentMessages);
  if (open) seen.current = agentMessages;
  const unread = open ? 0 : agentMessages - seen.current;

  if (!open) {
    return <Launcher unread={unread} onOpen={() => setOpen(true)} />;
  }
  return (
    <div className="wg-panel">
      <header className="wg-head">
        <h1>Chat with us</h1>
        <button type="button" className="wg-min" aria-label="Minimize chat" onClick={() => setOpen(false)}>
          <span aria-hidden="true">–</span>
        </button>
      </header>
      <main className="wg-body">
        {session ? (
          <ChatView
            state={state}
            status={status}
            error={error}
            send={async (text, clientMessageId) => {
              await chat.sendMessage({ conversationId: session.conversationId, clientMessageId, text });
            }}
            draft={async (text) => {
              await chat.updateDraft({ conversationId: session.conversationId, text });
            }}
            onEnd={async () => {
              await chat.closeConversation({ conversationId: session.conversationId });
            }}
            onRate={async (r) => {
              await chat.rateConversation({ conversationId: session.conversationId, ...r });
            }}
            onNewChat={() => setChat(null)}
          />
        ) : keptOffline ? (
          <div className="wg-done" role="status">
            <p>Message sent</p>
            <p className="muted">Nobody was online any more: the team will read your message.</p>
          </div>
        ) : (
          <Availability
            place={place}
            chat={chat}
            greeting={greeting}
            onStart={async ({ name, message }) => {
              const r = await chat.startConversation({
                widgetKey: place.widgetKey,
                businessUnit: place.unit,
                visitorName: name,
                firstMessage: { clientMessageId: newClientMessageId(), text: message },
                pageUrl: place.pageUrl,
                visitorKey: loadVisitorKey(place),
              });
              saveVisitorKey(place, r.visitorKey);
              if (r.conversation) setChat({ conversationId: r.conversation.id, visitorToken: r.visitorToken });
              else if (r.offlineMessageId) setKeptOffline(true);
            }}
          />
        )}
      </main>
    </div>
  );
}

export function Launcher(props: { unread: number; onOpen: () => void }) {
  return (
    <div className="wg-launcher-box">
      <button type="button" className="wg-launcher" aria-label="Chat with us" aria-describedby={props.unread > 0 ? "wg-unread" : undefined} onClick={props.onOpen}>
        <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20">
          <path fill="currentColor" d={chatIconPath} />
        </svg>
        Chat with us
        {props.unread > 0 && (
          <span id="wg-unread" className="wg-unread">
            {props.unread}
            <span className="sr-only"> new {props.unread === 1 ? "message" : "messages"}</span>
          </span>
        )}
      </button>
    </div>
  );
}

// Availability asks whether anyone is online, then shows the start form, the offline
// form, or why neither.
function Availability(props: {
  place: Place;
  chat: ReturnType<typeof createClient<typeof ChatService>>;
  greeting: string;
  onStart: (v: { name: string; message: string }) => Promise<void>;
}) {
  const { place, chat } = props;
  const [availability, setAvailability] = useState<GetAvailabilityResponse | null>(null);
  const [error, setError] = useState("");
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    setError("");
    chat
      .getAvailability({ widgetKey: place.widgetKey, businessUnit: place.unit })
      .then((r) => live && setAvailability(r))
      .catch((err) => live && setError(errorText(err)));
    return () => {
      live = false;
    };
  }, [chat, place, attempt]);

  if (error) {
    return (
      <div className="wg-note">
        <p className="error" role="alert">
          {error}
        </p>
        <button type="button" onClick={() => setAttempt(attempt + 1)}>
          Try again
        </button>
      </div>
    );
  }
  if (!availability) return <p className="muted wg-note">Loading…</p>;
  return (
    <AvailableView
      availability={availability}
      greeting={props.greeting}
      onStart={async (v) => {
        try {
          await props.onStart(v);
        } catch (err) {
          // Nobody is online any more: ask again, which shows what the visitor can do now.
          if (err instanceof ConnectError && err.code === Code.Unavailable) setAttempt((n) => n + 1);
          throw err;
        }
      }}
      onLeave={async ({ name, email, message }) => {
        await chat.leaveOfflineMessage({ widgetKey: place.widgetKey, businessUnit: place.unit, name, email, text: message });
      }}
    />
  );
}

// AvailableView picks what a visitor can do given the unit's availability.
export function AvailableView(props: {
  availability: GetAvailabilityResponse;
  greeting: string;
  onStart: (v: { name: string; message: string }) => Promise<void>;
  onLeave: (v: { name: string; email: string; message: string }) => Promise<void>;
}) {
  const a = props.availability;
  if (a.agentsOnline) return <StartForm greetingName={props.greeting} onStart={props.onStart} />;
  if (a.acceptsOfflineMessages) return <OfflineForm onSend={props.onLeave} />;
  return (
    <p className="wg-note" role="status">
      {a.open ? "Nobody is available to chat right now. Please try again later." : "We are closed now. Please come back during our opening hours."}
    </p>
  );
}
