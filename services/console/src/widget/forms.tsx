// The widget's forms: starting a chat, leaving a message while nobody is online, and
// rating a conversation that ended. Each takes a submit that calls the API and shows its
// error text when it fails.
import { useId, useState, type FormEvent, type ReactNode } from "react";
import { RatingCriterion, Thumb } from "../gen/switchboard/chat/v1/chat_pb";
import { errorText } from "../transport";

function useSubmit<T>(submit: (v: T) => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const run = async (e: FormEvent, v: T) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError("");
    try {
      await submit(v);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

// Field labels a control by id: a label wrapping a text box would name it with its value too.
function Field(props: { label: string; children: (id: string) => ReactNode }) {
  const id = useId();
  return (
    <div className="wg-field">
      <label htmlFor={id}>{props.label}</label>
      {props.children(id)}
    </div>
  );
}

function ErrorNote({ error }: { error: string }) {
  return error ? (
    <p className="error" role="alert">
      {error}
    </p>
  ) : null;
}

export function StartForm(props: { greetingName: string; onStart: (v: { name: string; message: string }) => Promise<void> }) {
  const [name, setName] = useState(props.greetingName);
  const [message, setMessage] = useState("");
  const { busy, error, run } = useSubmit(props.onStart);
  return (
    <form className="wg-form" aria-label="Start a chat" onSubmit={(e) => run(e, { name: name.trim(), message: message.trim() })}>
      <p>{props.greetingName ? `Welcome back, ${props.greetingName}! How can we help?` : "Hi! How can we help?"}</p>
      <Field label="Your name">{(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" maxLength={200} />}</Field>
      <Field label="Message">{(id) => <textarea id={id} value={message} onChange={(e) => setMessage(e.target.value)} rows={3} maxLength={4096} required />}</Field>
      <ErrorNote error={error} />
      <button type="submit" className="primary" disabled={busy || !message.trim()}>
        Start chat
      </button>
    </form>
  );
}

export function OfflineForm(props: { onSend: (v: { name: string; email: string; message: string }) => Promise<void> }) {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [message, setMessage] = useState("");
  const [sent, setSent] = useState(false);
  const { busy, error, run } = useSubmit(async (v: { name: string; email: string; message: string }) => {
    await props.onSend(v);
    setSent(true);
  });
  if (sent) {
    return (
      <div className="wg-done" role="status">
        <p>Message sent</p>
        <p className="muted">We will answer by email.</p>
      </div>
    );
  }
  return (
    <form className="wg-form" aria-label="Leave a message" onSubmit={(e) => run(e, { name: name.trim(), email: email.trim(), message: message.trim() })}>
      <h2>Leave a message</h2>
      <p>Nobody is available to chat right now. Leave a message and we will answer by email.</p>
      <Field label="Your name">{(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" maxLength={200} />}</Field>
      <Field label="Email">{(id) => <input id={id} type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="email" required />}</Field>
      <Field label="Message">{(id) => <textarea id={id} value={message} onChange={(e) => setMessage(e.target.value)} rows={4} maxLength={4096} required />}</Field>
      <ErrorNote error={error} />
      <button type="submit" className="primary" disabled={busy || !email.trim() || !message.trim()}>
        Send message
      </button>
    </form>
  );
}

export interface Rating {
  csat: number;
  thumb: Thumb;
  criteria: { criterion: RatingCriterion; score: number }[];
  comment: string;
}

// criteria are the aspects a visitor scores besides the overall rating (the protocol's).
const criteria: { criterion: RatingCriterion; label: string }[] = [
  { criterion: RatingCriterion.WELCOME, label: "Welcome" },
  { criterion: RatingCriterion.RESPONSE_TIME, label: "Response time" },
  { criterion: RatingCriterion.QUALITY, label: "Quality of the answers" },
];

export function RatingForm(props: { onRate: (r: Rating) => Promise<void> }) {
  const [csat, setCsat] = useState(0);
  const [thumb, setThumb] = useState(Thumb.UNSPECIFIED);
  const [scores, setScores] = useState<Record<number, number>>({});
  const [comment, setComment] = useState("");
  const [done, setDone] = useState(false);
  const { busy, error, run } = useSubmit(async (r: Rating) => {
    await props.onRate(r);
    setDone(true);
  });
  if (done) {
    return (
      <p className="wg-done" role="status">
        Thanks for your rating
      </p>
    );
  }
  const rating: Rating = {
    csat,
    thumb,
    criteria: criteria.filter((c) => scores[c.criterion]).map((c) => ({ criterion: c.criterion, score: scores[c.criterion] })),
    comment: comment.trim(),
  };
  const empty = !csat && thumb === Thumb.UNSPECIFIED && rating.criteria.length === 0 && !rating.comment;
  return (
    <form className="wg-form wg-rating" aria-label="Rate this conversation" onSubmit={(e) => run(e, rating)}>
      <h2>Rate this conversation</h2>
      <Stars label="Rating" value={csat} onChange={setCsat} />
      {criteria.map((c) => (
        <Stars key={c.criterion} label={c.label} value={scores[c.criterion] ?? 0} small onChange={(v) => setScores({ ...scores, [c.criterion]: v })} />
      ))}
      <Thumbs value={thumb} onChange={setThumb} />
      <Field label="Comment">{(id) => <textarea id={id} value={comment} onChange={(e) => setComment(e.target.value)} rows={2} maxLength={4096} />}</Field>
      <ErrorNote error={error} />
      <button type="submit" className="primary" disabled={busy || empty}>
        Send rating
      </button>
    </form>
  );
}

// Stars is a radio group of 1–5 stars: arrow keys move between them like any radio group.
function Stars(props: { label: string; value: number; onChange: (v: number) => void; small?: boolean }) {
  const id = useId();
  return (
    <fieldset className={`wg-stars${props.small ? " small" : ""}`} role="radiogroup" aria-labelledby={`${id}-legend`}>
      <legend id={`${id}-legend`}>{props.label}</legend>
      {[1, 2, 3, 4, 5].map((n) => (
        <label key={n} className={n <= props.value ? "on" : ""}>
          <input type="radio" name={id} value={n} checked={props.value === n} aria-label={n === 1 ? "1 star" : `${n} stars`} onChange={() => props.onChange(n)} />
          <span aria-hidden="true">★</span>
        </label>
      ))}
    </fieldset>
  );
}

function Thumbs(props: { value: Thumb; onChange: (t: Thumb) => void }) {
  const id = useId();
  return (
    <fieldset className="wg-thumbs" role="radiogroup" aria-labelledby={`${id}-legend`}>
      <legend id={`${id}-legend`}>Overall</legend>
      {[
        { thumb: Thumb.UP, label: "Thumbs up", down: false },
        { thumb: Thumb.DOWN, label: "Thumbs down", down: true },
      ].map((t) => (
        <label key={t.thumb} className={props.value === t.thumb ? "on" : ""}>
          <input type="radio" name={id} checked={props.value === t.thumb} aria-label={t.label} onChange={() => props.onChange(t.thumb)} />
          <ThumbIcon down={t.down} />
        </label>
      ))}
    </fieldset>
  );
}

// ThumbIcon is drawn, not an emoji: not every system has an emoji font.
function ThumbIcon({ down }: { down: boolean }) {
  return (
    <svg aria-hidden="true" viewBox="0 0 24 24" width="24" height="24" style={down ? { transform: "rotate(180deg)" } : undefined}>
      <path fill="currentColor" d="M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6c-.4.4-.6.9-.6 1.4v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z" />
    </svg>
  );
}
