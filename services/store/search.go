package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Unindexed lists conversations whose messages the search index has not caught up with,
// with the events it lacks, in one query. An open conversation indexed less than
// reindexAfter ago waits; a closed one never does.
func Unindexed(ctx context.Context, tx pgx.Tx, limit int, reindexAfter time.Duration) (map[uuid.UUID][]*Event, map[uuid.UUID]int64, error) {
	rows, err := tx.Query(ctx, `WITH pending AS (
			SELECT c.conversation_id AS conv, c.last_seq, coalesce(s.indexed_seq, 0) AS indexed_seq
			FROM conversations c LEFT JOIN tenant_conversation_search s ON s.conversation_id = c.conversation_id
			WHERE c.tenant_id = sb_current_tenant() AND c.last_seq > coalesce(s.indexed_seq, 0)
			  AND (c.state = 'closed' OR coalesce(s.indexed_at, '-infinity') < now() - make_interval(secs => $2))
			ORDER BY c.last_activity_at LIMIT $1)
		SELECT p.last_seq, `+eventColumns+` FROM pending p
		JOIN events e ON e.tenant_id = sb_current_tenant() AND e.conversation_id = p.conv
		 AND e.seq > p.indexed_seq AND e.seq <= p.last_seq
		ORDER BY p.conv, e.seq`, limit, reindexAfter.Seconds())
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	events := map[uuid.UUID][]*Event{}
	upTo := map[uuid.UUID]int64{}
	for rows.Next() {
		var last int64
		e := &Event{}
		if err := rows.Scan(&last, &e.ConversationID, &e.Seq, &e.CreatedAt, &e.AuthorKind, &e.AuthorID, &e.AuthorName,
			&e.Kind, &e.Visibility, &e.ClientMessageID, &e.Body, &e.SystemKind, &e.AgentName, &e.UnitName); err != nil {
			return nil, nil, err
		}
		events[e.ConversationID] = append(events[e.ConversationID], e)
		upTo[e.ConversationID] = last
	}
	return events, upTo, rows.Err()
}

// IndexUpdate is what the indexer adds to one conversation's search document.
type IndexUpdate struct {
	Conversation   uuid.UUID
	UpToSeq        int64
	Text           string
	Messages       int
	SentimentSum   float64
	SentimentCount int
}

// ApplyIndex adds an update to a conversation's search document.
func ApplyIndex(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, u IndexUpdate) error {
	_, err := tx.Exec(ctx, `INSERT INTO tenant_conversation_search AS s (tenant_id, conversation_id, document, indexed_seq, indexed_at, message_count, sentiment_sum, sentiment_count)
		VALUES ($1, $2, to_tsvector('simple', $3), $4, now(), $5, $6, $7)
		ON CONFLICT (tenant_id, conversation_id) DO UPDATE SET
		  document = s.document || excluded.document, indexed_seq = greatest(s.indexed_seq, excluded.indexed_seq), indexed_at = now(),
		  message_count = s.message_count + excluded.message_count,
		  sentiment_sum = s.sentiment_sum + excluded.sentiment_sum, sentiment_count = s.sentiment_count + excluded.sentiment_count
		WHERE s.indexed_seq < excluded.indexed_seq`,
		tenant, u.Conversation, u.Text, u.UpToSeq, u.Messages, u.SentimentSum, u.SentimentCount)
	if err != nil {
		return fmt.Errorf("indexing conversation %s: %w", u.Conversation, err)
	}
	return nil
}

// ChatFilter selects conversations for the all-chats search and export.
type ChatFilter struct {
	Units []uuid.UUID
	Agent string
	From  time.Time // zero: no lower bound
	To    time.Time // zero: no upper bound
	// CSATMin and CSATMax bound the rating (0: no bound); set, they keep rated chats only.
	CSATMin, CSATMax int32
	Thumb            string // "up", "down" or ""
	// Sentiment is "negative", "neutral", "positive" or "".
	Sentiment string
	Text      string
	// State is "open", "closed" or "" for both.
	State string
}

// ChatRow is a conversation as search shows it.
type ChatRow struct {
	Conversation
	CSAT         int32
	Thumb        string
	Sentiment    float64
	HasSentiment bool
	Messages     int
}

// Cursor continues a search after the last row of a page.
type Cursor struct {
	CreatedAt time.Time
	ID        uuid.UUID
}

// SearchChats returns up to limit conversations matching f, newest first, after cursor.
// The page is chosen first, joining only what the filters need, and the columns shown
// are read for its rows alone: a text matching thousands of conversations costs the
// match, not thousands of joins. Search documents are joined by conversation_id alone, so
// that the text match may use its index (see migration 0006).
func SearchChats(ctx context.Context, tx pgx.Tx, f ChatFilter, after *Cursor, limit int) ([]*ChatRow, error) {
	var where []string
	args := []any{f.Units}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	where = append(where, "c.tenant_id = sb_current_tenant()", "c.unit_id = ANY($1)")
	if f.Agent != "" {
		where = append(where, "c.agent_id IN (SELECT agent_id FROM agents WHERE tenant_id = sb_current_tenant() AND name = "+arg(f.Agent)+")")
	}
	if !f.From.IsZero() {
		where = append(where, "c.created_at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "c.created_at < "+arg(f.To))
	}
	rated := false
	if f.CSATMin > 0 {
		where, rated = append(where, "r.csat >= "+arg(f.CSATMin)), true
	}
	if f.CSATMax > 0 {
		where, rated = append(where, "r.csat <= "+arg(f.CSATMax)), true
	}
	if f.Thumb != "" {
		where, rated = append(where, "r.thumb = "+arg(f.Thumb)), true
	}
	searched := true
	switch f.Sentiment {
	case "negative":
		where = append(where, "s.sentiment_count > 0 AND s.sentiment_sum / s.sentiment_count < -0.2")
	case "positive":
		where = append(where, "s.sentiment_count > 0 AND s.sentiment_sum / s.sentiment_count > 0.2")
	case "neutral":
		where = append(where, "(coalesce(s.sentiment_count, 0) = 0 OR s.sentiment_sum / s.sentiment_count BETWEEN -0.2 AND 0.2)")
	default:
		searched = f.Text != ""
	}
	if f.Text != "" {
		where = append(where, "s.document @@ plainto_tsquery('simple', "+arg(f.Text)+")")
	}
	switch f.State {
	case "open":
		where = append(where, "c.state <> 'closed'")
	case "closed":
		where = append(where, "c.state = 'closed'")
	}
	if after != nil {
		where = append(where, fmt.Sprintf("(c.created_at, c.conversation_id) < (%s, %s)", arg(after.CreatedAt), arg(after.ID)))
	}
	joins := ""
	if rated {
		joins += " JOIN ratings r ON r.tenant_id = c.tenant_id AND r.conversation_id = c.conversation_id"
	}
	if searched {
		joins += " LEFT JOIN tenant_conversation_search s ON s.conversation_id = c.conversation_id"
	}
	// A cached generic plan cannot know how many conversations a text matches, and
	// picks one plan for rare and common words alike; plan each search for its values.
	if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
		return nil, fmt.Errorf("searching chats: %w", err)
	}
	query := `WITH page AS (
			SELECT c.conversation_id, c.created_at FROM conversations c` + joins + `
			WHERE ` + strings.Join(where, " AND ") + `
			ORDER BY c.created_at DESC, c.conversation_id DESC LIMIT ` + arg(limit) + `)
		SELECT ` + conversationColumns + `, coalesce(r.csat, 0), coalesce(r.thumb, ''),
		coalesce(s.sentiment_sum / nullif(s.sentiment_count, 0), 0), coalesce(s.sentiment_count, 0) > 0, coalesce(s.message_count, 0)
		FROM page p JOIN (` + conversationFrom + `) ON c.tenant_id = sb_current_tenant() AND c.conversation_id = p.conversation_id
		LEFT JOIN ratings r ON r.tenant_id = c.tenant_id AND r.conversation_id = c.conversation_id
		LEFT JOIN tenant_conversation_search s ON s.conversation_id = c.conversation_id
		ORDER BY p.created_at DESC, p.conversation_id DESC`
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("searching chats: %w", err)
	}
	defer rows.Close()
	var out []*ChatRow
	for rows.Next() {
		var r ChatRow
		c := &r.Conversation
		if err := rows.Scan(&c.ID, &c.UnitID, &c.UnitName, &c.VisitorID, &c.VisitorName, &c.AgentID,
			&c.AgentName, &c.State, &c.LastSeq, &c.CreatedAt, &c.LastActivityAt, &c.ClosedAt,
			&r.CSAT, &r.Thumb, &r.Sentiment, &r.HasSentiment, &r.Messages); err != nil {
			return nil, err
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}

// TryIndexLock takes the tenant's indexing lock for the transaction if no other replica
// holds it.
func TryIndexLock(ctx context.Context, tx pgx.Tx, tenant uuid.UUID) (bool, error) {
	var ok bool
	err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended($1::text, 7))`, tenant).Scan(&ok)
	return ok, err
}
