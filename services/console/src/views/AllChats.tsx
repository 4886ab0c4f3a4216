// AllChats: the history of the units where the user holds AllChats. "/chats" searches
// (filters in the query string, pages by the server's token) and exports the filter as
// CSV; "/chats/<id>" shows one conversation's transcript.
import { useEffect, useMemo, useState } from "react";
import { errorText } from "../api";
import type { ChatSummary } from "../gen/switchboard/supervision/v1/supervision_pb";
import { unitsWith, useSession } from "../session";
import { place } from "../tenant";
import type { TranscriptState } from "../ui/transcript";
import { ChatDetailView } from "./chats/ChatDetailView";
import { ChatFilters } from "./chats/ChatFilters";
import { ChatsTable } from "./chats/ChatsTable";
import { ExportControl, useExport } from "./chats/ExportControl";
import { filterFromQuery, filterToQuery, toChatFilter, type FilterValues } from "./chats/chatFilter";
import { collectCsv, download, stampedName } from "./chats/exportCsv";
import { visitorName } from "./chats/format";
import { csvTranscript } from "./chats/transcriptCsv";
import { useAgents } from "./chats/useAgents";
import "./chats.css";

const pageSize = 50;

// seen keeps the conversations the search showed, so a transcript opened from the list
// shows them at once; lastSearch is the list to go back to.
const seen = new Map<string, ChatSummary>();
let lastSearch = "";

export function AllChats({ route }: { route: string }) {
  const id = route.split("/")[2];
  return id ? <ChatDetail id={decodeURIComponent(id)} /> : <ChatSearch key={window.location.search} />;
}

function ChatSearch() {
  const { clients, grants, navigate } = useSession();
  const units = useMemo(() => unitsWith(grants, "AllChats"), [grants]);
  const { agents } = useAgents();
  const query = window.location.search;
  const filter = useMemo(() => filterFromQuery(query), [query]);
  const [round, setRound] = useState(0);
  // tokens[i] is the token of page i (the first page's is "").
  const [tokens, setTokens] = useState<string[]>([""]);
  const [page, setPage] = useState<{ chats: ChatSummary[]; next: string } | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState("");
  const base = place(window.location.pathname).base;
  useEffect(() => {
    lastSearch = query;
  }, [query]);

  const token = tokens[tokens.length - 1];
  useEffect(() => {
    const abort = new AbortController();
    setLoading(true);
    clients.supervision
      .searchChats({ filter: toChatFilter(filter), pageToken: token, pageSize }, { signal: abort.signal })
      .then((r) => {
        for (const s of r.chats) seen.set(s.conversation!.id, s);
        setPage({ chats: r.chats, next: r.nextPageToken });
        setError("");
      })
      .catch((err) => !abort.signal.aborted && setError(errorText(err)))
      .finally(() => !abort.signal.aborted && setLoading(false));
    return () => abort.abort();
  }, [clients, filter, token, round]);

  const exporter = useExport((signal) => clients.supervision.exportChats({ filter: toChatFilter(filter) }, { signal }), "chats");

  function search(f: FilterValues) {
    setTokens([""]);
    setRound((n) => n + 1);
    navigate("/chats" + filterToQuery(f));
  }

  return (
    <section aria-labelledby="all-chats-title" className="chats-page">
      <h1 id="all-chats-title" className="view-title">
        All chats
      </h1>
      <ChatFilters initial={filter} units={units} agents={agents} onSearch={search} />
      <div className="toolbar results-bar">
        <span className="muted" aria-live="polite">
          {page && `Page ${tokens.length} · ${page.chats.length} conversation${page.chats.length === 1 ? "" : "s"}`}
        </span>
        <ExportControl state={exporter.state} onStart={exporter.start} onCancel={exporter.cancel} />
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {loading && !page && <p className="muted">Searching…</p>}
      {page && page.chats.length === 0 && <p className="empty">No conversation matches these filters.</p>}
      {page && page.chats.length > 0 && (
        <div aria-busy={loading}>
          <ChatsTable chats={page.chats} agents={agents} href={(id) => `${base}/chats/${id}`} onOpen={(id) => navigate(`/chats/${id}`)} />
        </div>
      )}
      <nav className="pager" aria-label="Pages">
        <button type="button" disabled={tokens.length === 1 || loading} onClick={() => setTokens((t) => t.slice(0, -1))}>
          Previous page
        </button>
        <button type="button" disabled={!page?.next || loading} onClick={() => page && setTokens((t) => [...t, page.next])}>
          Next page
        </button>
      </nav>
    </section>
  );
}

function ChatDetail({ id }: { id: string }) {
  const { clients, grants, navigate } = useSession();
  const { agents } = useAgents();
  const summary = seen.get(id);
  const [csv, setCsv] = useState<{ blob: Blob; transcript: TranscriptState } | null>(null);
  const [error, setError] = useState("");
  const supervisable = unitsWith(grants, "Supervise");
  const base = place(window.location.pathname).base;

  useEffect(() => {
    const abort = new AbortController();
    setCsv(null);
    (async () => {
      try {
        const blob = await collectCsv(clients.supervision.exportTranscript({ conversationId: id, includeWhispers: true }, { signal: abort.signal }), () => {});
        const transcript = csvTranscript(await blob.text());
        if (!abort.signal.aborted) setCsv({ blob, transcript });
      } catch (err) {
        if (!abort.signal.aborted) setError(errorText(err));
      }
    })();
    return () => abort.abort();
  }, [clients, id]);

  const visitor = summary ? visitorName(summary.conversation) : (csv?.transcript.entries.find((e) => e.author === "visitor")?.name ?? "the visitor");
  const unit = summary?.conversation?.businessUnit;

  return (
    <ChatDetailView
      visitor={visitor}
      summary={summary}
      agents={agents}
      transcript={csv?.transcript ?? null}
      loading={!csv && !error}
      error={error}
      backHref={`${base}/chats${lastSearch}`}
      onBack={() => navigate("/chats" + lastSearch)}
      onDownload={csv ? () => download(csv.blob, stampedName(`transcript-${id.slice(0, 8)}`)) : undefined}
      onSend={async (to) => {
        await clients.supervision.sendTranscript({ conversationId: id, to });
      }}
      onSupervise={
        unit && supervisable.includes(unit)
          ? async () => {
              await clients.supervision.addSupervisedChat({ conversationId: id });
              navigate("/supervised");
            }
          : undefined
      }
    />
  );
}
