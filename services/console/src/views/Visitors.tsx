// Visitors and contacts: the contacts list with search, paging and a form for a new
// contact ("/visitors"), and one visitor's profile, conversations and visits
// ("/visitors/<id>"). This container fetches; the visitors/ components draw.
import { useCallback, useEffect, useState } from "react";
import { errorText, isAbort } from "../api";
import { useSession } from "../session";
import { place } from "../tenant";
import type { GetVisitorResponse, Visitor, VisitorProfile } from "../gen/switchboard/supervision/v1/supervision_pb";
import { ContactList } from "./visitors/ContactList";
import { ProfileForm } from "./visitors/ProfileForm";
import { RouteLink } from "./visitors/RouteLink";
import { VisitorDetail } from "./visitors/VisitorDetail";
import { useSettled } from "./reports/useSettled";
import "./visitors.css";

const pageSize = 25;
const searchSettleMs = 300;

export function Visitors(props: { route: string }) {
  const visitorId = props.route.split("/")[2];
  return visitorId ? <VisitorPage key={visitorId} visitorId={visitorId} /> : <ContactsPage />;
}

function ContactsPage() {
  const { clients, navigate } = useSession();
  const base = place(window.location.pathname).base;
  const [query, setQuery] = useState("");
  const settledQuery = useSettled(query, searchSettleMs);
  // tokens[i] is the page token of page i + 1 of the query's results; page 1 has none.
  const [paging, setPaging] = useState({ query: "", tokens: [""] });
  const tokens = paging.query === settledQuery ? paging.tokens : [""];
  const [contacts, setContacts] = useState<Visitor[]>([]);
  const [next, setNext] = useState("");
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState("");
  const [creating, setCreating] = useState(false);
  const pageToken = tokens[tokens.length - 1];

  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    clients.supervision
      .listContacts({ query: settledQuery, pageToken, limit: pageSize }, { signal: ctl.signal })
      .then((r) => {
        setContacts(r.contacts);
        setNext(r.nextPageToken);
        setError("");
      })
      .catch((err) => {
        if (ctl.signal.aborted || isAbort(err)) return;
        setContacts([]);
        setNext("");
        setError(errorText(err));
      })
      .finally(() => !ctl.signal.aborted && setLoading(false));
    return () => ctl.abort();
  }, [clients, settledQuery, pageToken]);

  const create = async (profile: VisitorProfile) => {
    const r = await clients.supervision.createContact({ profile });
    if (r.contact) navigate(`/visitors/${r.contact.id}`);
  };

  return (
    <div className="visitors">
      <div className="visitors-head">
        <h1>Visitors and contacts</h1>
        <button type="button" className="primary" aria-expanded={creating} aria-controls="new-contact" onClick={() => setCreating((c) => !c)}>
          New contact
        </button>
      </div>
      {creating && (
        <section id="new-contact" className="card new-contact" aria-labelledby="new-contact-heading">
          <h2 id="new-contact-heading">New contact</h2>
          <ProfileForm submitLabel="Create contact" onSubmit={create} onCancel={() => setCreating(false)} labelledBy="new-contact-heading" />
        </section>
      )}
      <ContactList
        contacts={contacts}
        query={query}
        onQuery={setQuery}
        loading={loading}
        error={error}
        base={base}
        navigate={navigate}
        paging={{
          page: tokens.length,
          hasPrevious: tokens.length > 1,
          hasNext: next !== "",
          onPrevious: () => setPaging({ query: settledQuery, tokens: tokens.slice(0, -1) }),
          onNext: () => setPaging({ query: settledQuery, tokens: [...tokens, next] }),
        }}
      />
    </div>
  );
}

function VisitorPage(props: { visitorId: string }) {
  const { visitorId } = props;
  const { clients, navigate } = useSession();
  const base = place(window.location.pathname).base;
  const [data, setData] = useState<GetVisitorResponse | null>(null);
  const [loaded, setLoaded] = useState(0);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");

  const load = useCallback(
    (signal?: AbortSignal) =>
      clients.supervision
        .getVisitor({ visitorId }, { signal })
        .then((r) => {
          setData(r);
          setLoaded((n) => n + 1);
          setError("");
        })
        .catch((err) => {
          if (signal?.aborted || isAbort(err)) return;
          setError(errorText(err));
        }),
    [clients, visitorId],
  );

  useEffect(() => {
    const ctl = new AbortController();
    void load(ctl.signal);
    return () => ctl.abort();
  }, [load]);

  const save = async (profile: VisitorProfile) => {
    const r = await clients.supervision.updateContact({ visitorId, profile });
    setNotice("");
    setData((d) => (d && r.contact ? { ...d, visitor: r.contact } : d));
  };

  const remove = async () => {
    await clients.supervision.deleteContact({ visitorId });
    const hasHistory = (data?.visitor?.visits ?? 0) > 0 || (data?.conversations.length ?? 0) > 0;
    // A visitor with a history stays, anonymous; one entered by hand is gone.
    if (!hasHistory) {
      navigate("/visitors");
      return;
    }
    setNotice("The contact's profile was erased; the visitor and their history stay, anonymous.");
    await load();
  };

  if (error) {
    return (
      <div className="visitors">
        <p role="alert" className="error">
          {error}
        </p>
        <RouteLink base={base} route="/visitors" navigate={navigate}>
          ← All contacts
        </RouteLink>
      </div>
    );
  }
  if (!data) return <p className="muted" aria-busy="true">Loading…</p>;
  return <VisitorDetail data={data} base={base} navigate={navigate} onSave={save} onDelete={remove} notice={notice} loaded={loaded} />;
}
