// ContactList is a page of contacts with the search above it and paging below.
import type { Visitor } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { RouteLink } from "./RouteLink";
import { formatTime, visitorName } from "./format";

export interface Paging {
  page: number; // 1-based
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious: () => void;
  onNext: () => void;
}

export function ContactList(props: {
  contacts: Visitor[];
  query: string;
  onQuery: (q: string) => void;
  loading: boolean;
  error: string;
  paging: Paging;
  base: string;
  navigate: (route: string) => void;
}) {
  const { contacts, query, onQuery, loading, error, paging, base, navigate } = props;
  return (
    <section className="contacts" aria-labelledby="contacts-heading" aria-busy={loading}>
      <h2 id="contacts-heading" className="visually-hidden">
        Contacts
      </h2>
      <div className="toolbar">
        <label className="contact-search">
          Search contacts
          <input type="search" value={query} placeholder="Name, email or phone" onChange={(e) => onQuery(e.target.value)} />
        </label>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {!error && contacts.length === 0 && (
        <p className="empty">{loading ? "Loading…" : query ? "No contact matches this search." : "No contacts yet."}</p>
      )}
      {contacts.length > 0 && (
        <div className="table-wrap">
          <table className="contact-table">
            <caption className="visually-hidden">Contacts by name</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Phone</th>
                <th scope="col">Visits</th>
                <th scope="col">Last seen</th>
              </tr>
            </thead>
            <tbody>
              {contacts.map((c) => (
                <tr key={c.id}>
                  <th scope="row">
                    <RouteLink base={base} route={`/visitors/${c.id}`} navigate={navigate}>
                      {visitorName(c)}
                    </RouteLink>
                  </th>
                  <td>{c.profile?.email}</td>
                  <td>{c.profile?.phone}</td>
                  <td>{c.visits}</td>
                  <td>{c.lastSeenAt ? formatTime(c.lastSeenAt) : <span className="muted">never</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {(paging.hasPrevious || paging.hasNext) && (
        <nav className="pager" aria-label="Contact pages">
          <button type="button" onClick={paging.onPrevious} disabled={!paging.hasPrevious || loading}>
            Previous page
          </button>
          <span className="muted">Page {paging.page}</span>
          <button type="button" onClick={paging.onNext} disabled={!paging.hasNext || loading}>
            Next page
          </button>
        </nav>
      )}
    </section>
  );
}
