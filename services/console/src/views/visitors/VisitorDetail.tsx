// VisitorDetail is one visitor: who they are (the profile, editable), the conversations
// the user may read, and their visits with the pages they viewed.
import { useState } from "react";
import { ConversationState, type Conversation } from "../../gen/switchboard/chat/v1/chat_pb";
import type { GetVisitorResponse, VisitorProfile, VisitorSession } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { errorText } from "../../api";
import { formatDuration } from "../reports/format";
import { ConfirmDialog } from "./ConfirmDialog";
import { ProfileForm } from "./ProfileForm";
import { RouteLink } from "./RouteLink";
import { formatTime, safeHref, secondsBetween, visitorName } from "./format";

const stateLabel: Record<ConversationState, string> = {
  [ConversationState.UNSPECIFIED]: "–",
  [ConversationState.QUEUED]: "Queued",
  [ConversationState.ASSIGNED]: "Assigned",
  [ConversationState.ACTIVE]: "Active",
  [ConversationState.CLOSED]: "Closed",
};

function Conversations(props: { conversations: Conversation[]; base: string; navigate: (route: string) => void }) {
  const { conversations, base, navigate } = props;
  if (conversations.length === 0) return <p className="empty">No conversation you may read.</p>;
  return (
    <div className="table-wrap">
      <table>
        <caption className="visually-hidden">Conversations, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Unit</th>
            <th scope="col">Agent</th>
            <th scope="col">State</th>
            <th scope="col">Last activity</th>
          </tr>
        </thead>
        <tbody>
          {conversations.map((c) => (
            <tr key={c.id}>
              <th scope="row">
                <RouteLink base={base} route={`/chats/${c.id}`} navigate={navigate}>
                  {formatTime(c.createdAt)}
                </RouteLink>
              </th>
              <td>{c.businessUnit}</td>
              <td>{c.agent || <span className="muted">none</span>}</td>
              <td>
                <span className={c.state === ConversationState.CLOSED ? "badge" : "badge ok"}>{stateLabel[c.state]}</span>
              </td>
              <td>{formatTime(c.lastActivityAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function client(s: VisitorSession): string {
  const browser = [s.browser, s.browserVersion].filter(Boolean).join(" ");
  const os = [s.os, s.osVersion].filter(Boolean).join(" ");
  return [browser && os ? `${browser} on ${os}` : browser || os, s.device, s.country].filter(Boolean).join(" · ");
}

function Visit(props: { session: VisitorSession }) {
  const s = props.session;
  const more = s.pageViewCount - s.pageViews.length;
  const length = secondsBetween(s.startedAt, s.lastSeenAt);
  return (
    <li className="visit card">
      <div className="visit-head">
        <strong>{formatTime(s.startedAt)}</strong>
        <span className="muted">
          {length >= 1 ? formatDuration(length) : "under a second"} ·{" "}
          {s.pageViewCount} {s.pageViewCount === 1 ? "page" : "pages"}
        </span>
      </div>
      <dl className="visit-facts">
        {s.site && (
          <>
            <dt>Site</dt>
            <dd>{s.site}</dd>
          </>
        )}
        {s.referrer && (
          <>
            <dt>Came from</dt>
            <dd className="wrap-anywhere">{s.referrer}</dd>
          </>
        )}
        {client(s) && (
          <>
            <dt>Browser</dt>
            <dd>{client(s)}</dd>
          </>
        )}
      </dl>
      {s.pageViews.length > 0 && (
        <details>
          <summary>Pages viewed ({s.pageViewCount})</summary>
          <ol className="pages">
            {s.pageViews.map((p, i) => {
              const href = safeHref(p.url);
              const label = p.title || p.url;
              return (
                <li key={i}>
                  {href ? (
                    <a href={href} target="_blank" rel="noopener noreferrer">
                      {label}
                    </a>
                  ) : (
                    label
                  )}{" "}
                  <span className="muted">{formatTime(p.viewedAt)}</span>
                  {p.title && <div className="muted wrap-anywhere page-url">{p.url}</div>}
                </li>
              );
            })}
          </ol>
          {more > 0 && <p className="muted">and {more} more</p>}
        </details>
      )}
    </li>
  );
}

export function VisitorDetail(props: {
  data: GetVisitorResponse;
  base: string;
  navigate: (route: string) => void;
  onSave: (profile: VisitorProfile) => Promise<void>;
  onDelete: () => Promise<void>;
  notice?: string;
  // loaded counts the times the visitor was read: the form starts again from each reading.
  loaded: number;
}) {
  const { data, base, navigate, onSave, onDelete, notice, loaded } = props;
  const v = data.visitor;
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState("");

  const confirmDelete = async () => {
    setDeleting(true);
    try {
      await onDelete();
      setDeleteError("");
      setConfirming(false);
    } catch (err) {
      setDeleteError(errorText(err));
      setConfirming(false);
    } finally {
      setDeleting(false);
    }
  };

  return (
    <article className="visitor" aria-labelledby="visitor-name">
      <RouteLink base={base} route="/visitors" navigate={navigate} className="back">
        ← All contacts
      </RouteLink>
      <header className="visitor-head">
        <h1 id="visitor-name">{visitorName(v)}</h1>
        {v?.isContact ? <span className="badge ok">Contact</span> : <span className="badge">Anonymous visitor</span>}
      </header>
      <dl className="visitor-facts">
        <dt>Visits</dt>
        <dd>{v?.visits ?? 0}</dd>
        <dt>First visit</dt>
        <dd>{v?.firstVisitAt ? formatTime(v.firstVisitAt) : "never visited"}</dd>
        <dt>Last seen</dt>
        <dd>{formatTime(v?.lastSeenAt)}</dd>
        <dt>Visitor id</dt>
        <dd className="wrap-anywhere">{v?.id}</dd>
      </dl>
      {notice && (
        <p role="status" className="notice">
          {notice}
        </p>
      )}
      <div className="visitor-grid">
        <section aria-labelledby="profile-heading" className="card">
          <h2 id="profile-heading">Profile</h2>
          {!v?.isContact && <p className="muted">Give a name, an email or a phone number to make this visitor a contact.</p>}
          <ProfileForm key={loaded} initial={v?.profile} submitLabel="Save" onSubmit={onSave} labelledBy="profile-heading">
            {v?.isContact && (
              <button type="button" className="danger" onClick={() => setConfirming(true)}>
                Delete contact
              </button>
            )}
          </ProfileForm>
          {deleteError && (
            <p role="alert" className="error">
              {deleteError}
            </p>
          )}
        </section>
        <section aria-labelledby="conversations-heading" className="card">
          <h2 id="conversations-heading">Conversations</h2>
          <Conversations conversations={data.conversations} base={base} navigate={navigate} />
        </section>
      </div>
      <section aria-labelledby="visits-heading">
        <h2 id="visits-heading">Visits</h2>
        {data.sessions.length === 0 ? (
          <p className="empty">No visit recorded.</p>
        ) : (
          <ol className="visits">
            {data.sessions.map((s) => (
              <Visit key={s.id} session={s} />
            ))}
          </ol>
        )}
      </section>
      {confirming && (
        <ConfirmDialog
          title="Delete this contact?"
          message={`The profile of ${visitorName(v)} (name, email, phone and notes) will be erased. Visits and conversations stay, anonymous.`}
          confirmLabel="Delete"
          busy={deleting}
          onConfirm={() => void confirmDelete()}
          onCancel={() => setConfirming(false)}
        />
      )}
    </article>
  );
}
