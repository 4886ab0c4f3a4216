package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Conversation states.
const (
	StateQueued   = "queued"
	StateAssigned = "assigned"
	StateActive   = "active"
	StateClosed   = "closed"
)

// Author kinds.
const (
	AuthorVisitor    = "visitor"
	AuthorAgent      = "agent"
	AuthorSupervisor = "supervisor"
	AuthorSystem     = "system"
)

// Event kinds. Messages and system events are stored; typing and drafts are live only.
const (
	KindMessage = "message"
	KindSystem  = "system"
	KindDraft   = "draft"
)

// Visibilities.
const (
	VisibleToAll   = "all"
	VisibleToStaff = "staff"
)

// System event kinds.
const (
	SystemStarted     = "started"
	SystemQueued      = "queued"
	SystemAssigned    = "assigned"
	SystemAccepted    = "accepted"
	SystemTransferred = "transferred"
	SystemClosed      = "closed"
	SystemRated       = "rated"
)

// Conversation is a conversation row with the names the API shows.
type Conversation struct {
	ID             uuid.UUID
	UnitID         uuid.UUID
	UnitName       string
	VisitorID      uuid.UUID
	VisitorName    string
	AgentID        uuid.NullUUID
	AgentName      string
	State          string
	LastSeq        int64
	CreatedAt      time.Time
	LastActivityAt time.Time
	ClosedAt       *time.Time
}

// Event is one event of a conversation.
type Event struct {
	Tenant          uuid.UUID
	ConversationID  uuid.UUID
	Seq             int64
	CreatedAt       time.Time
	AuthorKind      string
	AuthorID        string
	AuthorName      string
	Kind            string
	Visibility      string
	ClientMessageID string
	Body            string
	SystemKind      string
	AgentName       string
	UnitName        string
}

// Stored reports whether the event has a place in the conversation's sequence.
func (e *Event) Stored() bool { return e.Kind == KindMessage || e.Kind == KindSystem }

const conversationColumns = `c.conversation_id, c.unit_id, u.name, c.visitor_id, v.name, c.agent_id,
	coalesce(a.name, ''), c.state, c.last_seq, c.created_at, c.last_activity_at, c.closed_at`

const conversationFrom = `conversations c
	JOIN business_units u ON u.tenant_id = c.tenant_id AND u.unit_id = c.unit_id
	JOIN visitors v ON v.tenant_id = c.tenant_id AND v.visitor_id = c.visitor_id
	LEFT JOIN agents a ON a.tenant_id = c.tenant_id AND a.agent_id = c.agent_id`

func scanConversation(row pgx.Row) (*Conversation, error) {
	var c Conversation
	err := row.Scan(&c.ID, &c.UnitID, &c.UnitName, &c.VisitorID, &c.VisitorName, &c.AgentID,
		&c.AgentName, &c.State, &c.LastSeq, &c.CreatedAt, &c.LastActivityAt, &c.ClosedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &c, err
}

// GetConversation reads one conversation of the transaction's tenant.
func GetConversation(ctx context.Context, tx pgx.Tx, id uuid.UUID) (*Conversation, error) {
	return scanConversation(tx.QueryRow(ctx,
		`SELECT `+conversationColumns+` FROM `+conversationFrom+` WHERE c.tenant_id = sb_current_tenant() AND c.conversation_id = $1`, id))
}

// LockConversation takes a conversation's row lock and returns it as it is now.
func LockConversation(ctx context.Context, tx pgx.Tx, id uuid.UUID) (*Conversation, error) {
	if _, err := tx.Exec(ctx, `SELECT 1 FROM conversations WHERE tenant_id = sb_current_tenant() AND conversation_id = $1 FOR UPDATE`, id); err != nil {
		return nil, fmt.Errorf("locking conversation: %w", err)
	}
	return GetConversation(ctx, tx, id)
}

// ListAgentConversations lists an agent's open conversations, most recent activity first.
func ListAgentConversations(ctx context.Context, tx pgx.Tx, agent uuid.UUID) ([]*Conversation, error) {
	rows, err := tx.Query(ctx, `SELECT `+conversationColumns+` FROM `+conversationFrom+`
		WHERE c.tenant_id = sb_current_tenant() AND c.agent_id = $1 AND c.state IN ('assigned', 'active')
		ORDER BY c.last_activity_at DESC`, agent)
	if err != nil {
		return nil, err
	}
	return scanConversations(rows)
}

func scanConversations(rows pgx.Rows) ([]*Conversation, error) {
	defer rows.Close()
	var out []*Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// VisitorToken returns the hash of a conversation's visitor token, the visitor, and when
// the token stops working (zero while the conversation is open), in one round trip (see
// sb_visitor_token). A token past its expiry is ErrNotFound.
func (db *DB) VisitorToken(ctx context.Context, tenant, conversation uuid.UUID) (hash []byte, visitor uuid.UUID, name string, expires time.Time, err error) {
	var exp *time.Time
	err = db.Pool.QueryRow(ctx, `SELECT token_hash, visitor_id, visitor_name, expires_at FROM sb_visitor_token($1, $2)`,
		pgtype.UUID{Bytes: tenant, Valid: true}, pgtype.UUID{Bytes: conversation, Valid: true}).Scan(&hash, &visitor, &name, &exp)
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	if exp != nil {
		expires = *exp
	}
	return hash, visitor, name, expires, err
}

const eventColumns = `conversation_id, seq, created_at, author_kind, author_id, author_name, kind,
	visibility, coalesce(client_message_id, ''), body, coalesce(system_kind, ''), agent_name, unit_name`

// ListEvents reads up to limit stored events after afterSeq, in order. With staffView
// false, events visible to staff only are left out.
func ListEvents(ctx context.Context, tx pgx.Tx, tenant, conversation uuid.UUID, afterSeq int64, limit int, staffView bool) ([]*Event, error) {
	rows, err := tx.Query(ctx, `SELECT `+eventColumns+` FROM events
		WHERE tenant_id = sb_current_tenant() AND conversation_id = $1 AND seq > $2 AND ($4 OR visibility = 'all')
		ORDER BY seq LIMIT $3`, conversation, afterSeq, limit, staffView)
	if err != nil {
		return nil, err
	}
	return scanEvents(rows, tenant)
}

func scanEvents(rows pgx.Rows, tenant uuid.UUID) ([]*Event, error) {
	defer rows.Close()
	var out []*Event
	for rows.Next() {
		e := &Event{Tenant: tenant}
		if err := rows.Scan(&e.ConversationID, &e.Seq, &e.CreatedAt, &e.AuthorKind, &e.AuthorID, &e.AuthorName,
			&e.Kind, &e.Visibility, &e.ClientMessageID, &e.Body, &e.SystemKind, &e.AgentName, &e.UnitName); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ListEventsBySeq reads the stored events of a conversation with the given numbers.
func ListEventsBySeq(ctx context.Context, tx pgx.Tx, tenant, conversation uuid.UUID, seqs []int64) ([]*Event, error) {
	rows, err := tx.Query(ctx, `SELECT `+eventColumns+` FROM events
		WHERE tenant_id = sb_current_tenant() AND conversation_id = $1 AND seq = ANY($2) ORDER BY seq`, conversation, seqs)
	if err != nil {
		return nil, err
	}
	return scanEvents(rows, tenant)
}

// appendSystemEvent stores a system event as the conversation's next event. The caller
// holds the conversation's row lock.
func appendSystemEvent(ctx context.Context, tx pgx.Tx, tenant, conversation uuid.UUID, kind, agentName, unitName, detail string, by Author) (*Event, error) {
	e := &Event{Tenant: tenant, ConversationID: conversation, Kind: KindSystem, Visibility: VisibleToAll,
		SystemKind: kind, AgentName: agentName, UnitName: unitName, Body: detail,
		AuthorKind: by.Kind, AuthorID: by.ID, AuthorName: by.Name}
	err := tx.QueryRow(ctx, `
		WITH c AS (
			UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = clock_timestamp()
			 WHERE tenant_id = $1 AND conversation_id = $2
			RETURNING last_seq, last_activity_at)
		INSERT INTO events (tenant_id, conversation_id, seq, created_at, author_kind, author_id, author_name,
		                    kind, visibility, body, system_kind, agent_name, unit_name)
		SELECT $1, $2, c.last_seq, c.last_activity_at, $3, $4, $5, 'system', 'all', $6, $7, $8, $9 FROM c
		RETURNING seq, created_at`,
		tenant, conversation, by.Kind, by.ID, by.Name, detail, kind, agentName, unitName).Scan(&e.Seq, &e.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("storing %s event: %w", kind, err)
	}
	return e, nil
}

// Author is who causes a change.
type Author struct {
	Kind string
	ID   string
	Name string
}

// SystemAuthor is Switchboard itself.
var SystemAuthor = Author{Kind: AuthorSystem}

// Outcomes of AppendMessage.
const (
	OutcomeStored      = "stored"
	OutcomeDuplicate   = "duplicate"
	OutcomeNotFound    = "not_found"
	OutcomeIDTaken     = "id_taken"
	OutcomeClosed      = "closed"
	OutcomeNotYours    = "not_yours"
	OutcomeNotAccepted = "not_accepted"
)

// NewMessage is a message to store.
type NewMessage struct {
	Conversation uuid.UUID
	Author       Author
	// Agent, when set, requires the conversation to be active and assigned to it.
	Agent           uuid.NullUUID
	ClientMessageID string
	Body            string
	Visibility      string
}

// Querier is a pool or a transaction.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// AppendMessage stores a message (see sb_append_message) and reports the outcome; the
// event is set for OutcomeStored and OutcomeDuplicate. draftCleared says whether the
// author's draft was removed with it. q is nil to store it on its own (grouped with
// concurrent messages when RunAppendBatches runs), or a transaction to store it with
// other changes.
func (db *DB) AppendMessage(ctx context.Context, q Querier, tenant uuid.UUID, m NewMessage) (outcome string, e *Event, draftCleared bool, err error) {
	var r appendResult
	if q != nil {
		r = db.appendOne(ctx, q, tenant, m)
	} else if l := db.lane(tenant); l != nil && len(l.reqs) == 0 && l.storing.CompareAndSwap(0, 1) {
		// Nothing of the tenant's is being stored: no batch to wait for.
		r = db.appendOne(ctx, db.Pool, tenant, m)
		l.storing.Add(-1)
	} else if l != nil {
		req := &appendReq{ctx: ctx, tenant: tenant, m: m, done: make(chan appendResult, 1)}
		select {
		case l.reqs <- req:
		case <-ctx.Done():
			return "", nil, false, ctx.Err()
		}
		// The caller's deadline holds while its batch waits for a slow database; the
		// message may still be stored, which a resend with the same client id finds.
		select {
		case r = <-req.done:
		case <-ctx.Done():
			return "", nil, false, ctx.Err()
		}
	} else {
		r = db.appendOne(ctx, db.Pool, tenant, m)
	}
	if r.err != nil {
		return "", nil, false, fmt.Errorf("storing message: %w", r.err)
	}
	return r.outcome, r.event, r.draftCleared, nil
}

// appendOne stores one message in its own round trip.
func (db *DB) appendOne(ctx context.Context, q Querier, tenant uuid.UUID, m NewMessage) appendResult {
	_, inTx := q.(pgx.Tx)
	checked := inTx // inside a caller's transaction a failed statement would abort it
	var r appendResult
	for attempt := 0; attempt < 5; attempt++ {
		r = scanAppend(q.QueryRow(ctx, appendSQL, appendArgs(tenant, m, checked)...), tenant, m)
		// A resent client id breaks the unique key on the fast path; the careful path finds
		// the stored message.
		if hasCode(r.err, codeUniqueViolation) {
			checked = true
			continue
		}
		if inTx || !retryable(r.err) {
			break
		}
	}
	return r
}

// SaveDraft records what an author has typed so far in an open conversation; an empty
// body removes the draft.
func SaveDraft(ctx context.Context, tx pgx.Tx, tenant, conversation uuid.UUID, by Author, body string) (*Event, error) {
	var err error
	if body == "" {
		_, err = tx.Exec(ctx, `DELETE FROM drafts WHERE tenant_id = $1 AND conversation_id = $2 AND author_kind = $3`, tenant, conversation, by.Kind)
	} else {
		_, err = tx.Exec(ctx, `INSERT INTO drafts (tenant_id, conversation_id, author_kind, author_id, author_name, body)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (tenant_id, conversation_id, author_kind)
			DO UPDATE SET author_id = excluded.author_id, author_name = excluded.author_name, body = excluded.body, updated_at = now()`,
			tenant, conversation, by.Kind, by.ID, by.Name, body)
	}
	if err != nil {
		return nil, fmt.Errorf("saving draft: %w", err)
	}
	return LoadDraft(ctx, tx, tenant, conversation, by.Kind)
}

// LoadDraft reads the current draft of one side of a conversation as a live event; an
// absent draft is an event with an empty body (the author stopped typing).
func LoadDraft(ctx context.Context, tx pgx.Tx, tenant, conversation uuid.UUID, authorKind string) (*Event, error) {
	e := &Event{Tenant: tenant, ConversationID: conversation, Kind: KindDraft, Visibility: VisibleToStaff, AuthorKind: authorKind}
	err := tx.QueryRow(ctx, `SELECT c.last_seq, coalesce(d.updated_at, now()), coalesce(d.author_id, ''), coalesce(d.author_name, ''), coalesce(d.body, '')
		FROM conversations c LEFT JOIN drafts d
		  ON d.tenant_id = c.tenant_id AND d.conversation_id = c.conversation_id AND d.author_kind = $2
		WHERE c.tenant_id = sb_current_tenant() AND c.conversation_id = $1`, conversation, authorKind,
	).Scan(&e.Seq, &e.CreatedAt, &e.AuthorID, &e.AuthorName, &e.Body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return e, err
}

// Rating is a visitor's rating of a conversation.
type Rating struct {
	Thumb        string // "up", "down" or ""
	CSAT         int32  // 1–5, 0 for none
	Welcome      int32
	ResponseTime int32
	Quality      int32
	Comment      string
}

// RateConversation stores (or replaces) the rating and records a rated event.
func RateConversation(ctx context.Context, tx pgx.Tx, tenant, conversation uuid.UUID, r Rating, by Author) (*Event, error) {
	if _, err := LockConversation(ctx, tx, conversation); err != nil {
		return nil, err
	}
	_, err := tx.Exec(ctx, `INSERT INTO ratings (tenant_id, conversation_id, thumb, csat, welcome, response_time, quality, comment)
		VALUES ($1, $2, nullif($3, ''), nullif($4, 0), nullif($5, 0), nullif($6, 0), nullif($7, 0), $8)
		ON CONFLICT (tenant_id, conversation_id) DO UPDATE SET thumb = excluded.thumb, csat = excluded.csat,
		  welcome = excluded.welcome, response_time = excluded.response_time, quality = excluded.quality,
		  comment = excluded.comment, rated_at = now()`,
		tenant, conversation, r.Thumb, r.CSAT, r.Welcome, r.ResponseTime, r.Quality, r.Comment)
	if err != nil {
		return nil, fmt.Errorf("storing rating: %w", err)
	}
	return appendSystemEvent(ctx, tx, tenant, conversation, SystemRated, "", "", "", by)
}

// GetRating reads a conversation's rating.
func GetRating(ctx context.Context, tx pgx.Tx, conversation uuid.UUID) (*Rating, error) {
	var r Rating
	err := tx.QueryRow(ctx, `SELECT coalesce(thumb, ''), coalesce(csat, 0), coalesce(welcome, 0), coalesce(response_time, 0),
		coalesce(quality, 0), comment FROM ratings WHERE tenant_id = sb_current_tenant() AND conversation_id = $1`, conversation,
	).Scan(&r.Thumb, &r.CSAT, &r.Welcome, &r.ResponseTime, &r.Quality, &r.Comment)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &r, err
}

// OfflineMessage is a visitor's message left while nobody was online.
type OfflineMessage struct {
	UnitID  uuid.UUID
	Name    string
	Email   string
	Body    string
	PageURL string
}

// AddOfflineMessage keeps an offline message and returns its id.
func AddOfflineMessage(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, m OfflineMessage) (uuid.UUID, error) {
	var id uuid.UUID
	err := tx.QueryRow(ctx, `INSERT INTO offline_messages (tenant_id, unit_id, name, email, body, page_url)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING offline_message_id`, tenant, m.UnitID, m.Name, m.Email, m.Body, m.PageURL).Scan(&id)
	if err != nil {
		return uuid.Nil, fmt.Errorf("storing offline message: %w", err)
	}
	return id, nil
}
