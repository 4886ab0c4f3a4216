package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Supervision permissions, as BusinessUnit resources name them.
const (
	PermSupervise          = "Supervise"
	PermSuperviseOpenChats = "SuperviseOpenChats"
	PermAllChats           = "AllChats"
	// PermAny is any of them: what seeing a unit's agents, signals and board needs.
	PermAny = "a permission"
)

// Grant is what a supervisor may do in one unit.
type Grant struct {
	UnitID             uuid.UUID
	UnitName           string
	Supervise          bool
	SuperviseOpenChats bool
	AllChats           bool
}

// Has reports whether the grant holds a permission.
func (g Grant) Has(perm string) bool {
	switch perm {
	case PermSupervise:
		return g.Supervise
	case PermSuperviseOpenChats:
		return g.SuperviseOpenChats
	case PermAllChats:
		return g.AllChats
	case PermAny:
		return g.Supervise || g.SuperviseOpenChats || g.AllChats
	}
	return false
}

// Grants reads a supervisor's grants by unit; a tenant admin holds every permission on
// every unit.
func Grants(ctx context.Context, tx pgx.Tx, username string, admin bool) (map[uuid.UUID]Grant, error) {
	query := `SELECT u.unit_id, u.name, coalesce(s.supervise, false), coalesce(s.supervise_open_chats, false), coalesce(s.all_chats, false)
		FROM business_units u JOIN supervisor_units s ON s.tenant_id = u.tenant_id AND s.unit_id = u.unit_id
		WHERE u.tenant_id = sb_current_tenant() AND s.username = $1`
	if admin {
		query = `SELECT unit_id, name, true, true, true FROM business_units WHERE tenant_id = sb_current_tenant() AND $1::text IS NOT NULL`
	}
	rows, err := tx.Query(ctx, query, username)
	if err != nil {
		return nil, fmt.Errorf("reading grants: %w", err)
	}
	defer rows.Close()
	out := map[uuid.UUID]Grant{}
	for rows.Next() {
		var g Grant
		if err := rows.Scan(&g.UnitID, &g.UnitName, &g.Supervise, &g.SuperviseOpenChats, &g.AllChats); err != nil {
			return nil, err
		}
		out[g.UnitID] = g
	}
	return out, rows.Err()
}

// SetSupervisors makes a unit's supervisors exactly those given, with their permissions.
// It runs as the schema owner, from configuration.
func SetSupervisors(ctx context.Context, tx pgx.Tx, tenant, unit uuid.UUID, perms map[string][]string) error {
	names := make([]string, 0, len(perms))
	for name := range perms {
		names = append(names, name)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM supervisor_units WHERE tenant_id = $1 AND unit_id = $2 AND username <> ALL($3)`, tenant, unit, names); err != nil {
		return fmt.Errorf("updating supervisors: %w", err)
	}
	for name, ps := range perms {
		g := Grant{}
		for _, p := range ps {
			switch p {
			case PermSupervise:
				g.Supervise = true
			case PermSuperviseOpenChats:
				g.SuperviseOpenChats = true
			case PermAllChats:
				g.AllChats = true
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO supervisor_units (tenant_id, unit_id, username, supervise, supervise_open_chats, all_chats)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (tenant_id, unit_id, username) DO UPDATE SET supervise = excluded.supervise,
			  supervise_open_chats = excluded.supervise_open_chats, all_chats = excluded.all_chats`,
			tenant, unit, name, g.Supervise, g.SuperviseOpenChats, g.AllChats); err != nil {
			return fmt.Errorf("storing supervisor %q: %w", name, err)
		}
	}
	return nil
}

// AgentLoad is an agent with its load and units.
type AgentLoad struct {
	Agent
	Units []string
}

// ListAgentLoads lists the agents of the given units, by name.
func ListAgentLoads(ctx context.Context, tx pgx.Tx, units []uuid.UUID) ([]*AgentLoad, error) {
	rows, err := tx.Query(ctx, `SELECT a.agent_id, a.name, a.display_name, a.capacity, a.chosen_status, a.status, a.status_changed_at, a.open_count,
		array_agg(u.name ORDER BY u.name)
		FROM agents a JOIN agent_units au ON au.tenant_id = a.tenant_id AND au.agent_id = a.agent_id
		JOIN business_units u ON u.tenant_id = au.tenant_id AND u.unit_id = au.unit_id
		WHERE a.tenant_id = sb_current_tenant() AND au.unit_id = ANY($1)
		GROUP BY a.agent_id, a.name, a.display_name, a.capacity, a.chosen_status, a.status, a.status_changed_at, a.open_count
		ORDER BY a.name`, units)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*AgentLoad
	for rows.Next() {
		var a AgentLoad
		if err := rows.Scan(&a.ID, &a.Name, &a.DisplayName, &a.Capacity, &a.ChosenStatus, &a.Status, &a.StatusChangedAt, &a.OpenCount, &a.Units); err != nil {
			return nil, err
		}
		out = append(out, &a)
	}
	return out, rows.Err()
}

// OpenChat is an open conversation with what a supervisor needs to triage it.
type OpenChat struct {
	Conversation
	Inactive bool
	QueuedAt time.Time
}

// ListOpenChats lists the open conversations of the given units, optionally of one agent
// and only among ids (nil: all), most recent activity first.
func ListOpenChats(ctx context.Context, tx pgx.Tx, units []uuid.UUID, agentName string, ids []uuid.UUID) ([]*OpenChat, error) {
	rows, err := tx.Query(ctx, `SELECT `+conversationColumns+`,
		greatest(c.created_at, c.last_visitor_message_at, c.last_agent_message_at) < now() - make_interval(secs => u.inactivity_seconds),
		c.queued_at
		FROM `+conversationFrom+`
		WHERE c.tenant_id = sb_current_tenant() AND c.state <> 'closed' AND c.unit_id = ANY($1)
		  AND ($2 = '' OR a.name = $2) AND ($3::uuid[] IS NULL OR c.conversation_id = ANY($3))
		ORDER BY c.last_activity_at DESC`, units, agentName, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*OpenChat
	for rows.Next() {
		var o OpenChat
		c := &o.Conversation
		if err := rows.Scan(&c.ID, &c.UnitID, &c.UnitName, &c.VisitorID, &c.VisitorName, &c.AgentID,
			&c.AgentName, &c.State, &c.LastSeq, &c.CreatedAt, &c.LastActivityAt, &c.ClosedAt, &o.Inactive, &o.QueuedAt); err != nil {
			return nil, err
		}
		out = append(out, &o)
	}
	return out, rows.Err()
}

// MessagePreview is the beginning of a message.
type MessagePreview struct {
	Author Author
	// Text is the first PreviewLength characters of the message.
	Text      string
	Truncated bool
	CreatedAt time.Time
}

// PreviewLength is how many characters (code points) of a message a preview keeps.
const PreviewLength = 200

// LastMessages reads the last message of each of the given conversations that has one:
// the newest visitor's or agent's message the visitor saw, never a whisper (visibility
// 'staff'); drafts are no events at all. PostgreSQL cuts the text (left() counts
// characters), so a 4 KB message costs 200 characters on the wire. Each conversation
// costs one step back on the events' primary key from the newest event (a few when
// whispers came last): callers read only the conversations whose last_seq moved.
func LastMessages(ctx context.Context, tx pgx.Tx, conversations []uuid.UUID) (map[uuid.UUID]*MessagePreview, error) {
	rows, err := tx.Query(ctx, `SELECT c.id, m.author_kind, m.author_id, m.author_name, left(m.body, $2), length(m.body) > $2, m.created_at
		FROM unnest($1::uuid[]) AS c(id)
		CROSS JOIN LATERAL (SELECT e.author_kind, e.author_id, e.author_name, e.body, e.created_at FROM events e
		  WHERE e.tenant_id = sb_current_tenant() AND e.conversation_id = c.id AND e.kind = 'message'
		    AND e.visibility = 'all' AND e.author_kind IN ('visitor', 'agent')
		  ORDER BY e.seq DESC LIMIT 1) m`, conversations, PreviewLength)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uuid.UUID]*MessagePreview{}
	for rows.Next() {
		var id uuid.UUID
		var m MessagePreview
		if err := rows.Scan(&id, &m.Author.Kind, &m.Author.ID, &m.Author.Name, &m.Text, &m.Truncated, &m.CreatedAt); err != nil {
			return nil, err
		}
		out[id] = &m
	}
	return out, rows.Err()
}

// Audit actions.
const (
	AuditWatchStart = "watch.start"
	AuditWatchStop  = "watch.stop"
	AuditWhisper    = "whisper"
	AuditTransfer   = "transfer"
	AuditFinish     = "finish"
	AuditExport     = "export"
	// Contact changes name the visitor in the detail.
	AuditContactCreate = "contact.create"
	AuditContactUpdate = "contact.update"
	AuditContactDelete = "contact.delete"
)

// AddAudit records a supervision action.
func AddAudit(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, actor, action string, conversation uuid.UUID, detail string) error {
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (tenant_id, actor, action, conversation_id, detail) VALUES ($1, $2, $3, $4, $5)`,
		tenant, actor, action, uuid.NullUUID{UUID: conversation, Valid: conversation != uuid.Nil}, detail)
	if err != nil {
		return fmt.Errorf("recording %s in the audit log: %w", action, err)
	}
	return nil
}

// AddSupervisedChat adds a conversation to a supervisor's list; adding twice changes nothing.
func AddSupervisedChat(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, username string, conv uuid.UUID) error {
	_, err := tx.Exec(ctx, `INSERT INTO supervised_chats (tenant_id, username, conversation_id) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, tenant, username, conv)
	return err
}

// RemoveSupervisedChat takes a conversation off a supervisor's list.
func RemoveSupervisedChat(ctx context.Context, tx pgx.Tx, username string, conv uuid.UUID) error {
	_, err := tx.Exec(ctx, `DELETE FROM supervised_chats WHERE tenant_id = sb_current_tenant() AND username = $1 AND conversation_id = $2`, username, conv)
	return err
}

// ListSupervisedChats lists a supervisor's supervised conversations, most recently added first.
func ListSupervisedChats(ctx context.Context, tx pgx.Tx, username string) ([]*Conversation, error) {
	rows, err := tx.Query(ctx, `SELECT `+conversationColumns+` FROM supervised_chats s
		JOIN `+conversationFrom+` ON c.tenant_id = s.tenant_id AND c.conversation_id = s.conversation_id
		WHERE s.tenant_id = sb_current_tenant() AND s.username = $1 ORDER BY s.added_at DESC`, username)
	if err != nil {
		return nil, err
	}
	return scanConversations(rows)
}

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	ID           int64
	At           time.Time
	Actor        string
	Action       string
	Conversation uuid.NullUUID
	Detail       string
}

// ListAudit pages through the audit log, newest first.
func ListAudit(ctx context.Context, tx pgx.Tx, beforeID int64, limit int) ([]AuditEntry, error) {
	rows, err := tx.Query(ctx, `SELECT audit_id, at, actor, action, conversation_id, detail FROM audit_log
		WHERE tenant_id = sb_current_tenant() AND ($1::bigint = 0 OR audit_id < $1) ORDER BY audit_id DESC LIMIT $2`, beforeID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var a AuditEntry
		if err := rows.Scan(&a.ID, &a.At, &a.Actor, &a.Action, &a.Conversation, &a.Detail); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// agentLoadSelect reads agents with the names of their units, agents of no unit included.
const agentLoadSelect = `SELECT a.agent_id, a.name, a.display_name, a.capacity, a.chosen_status, a.status, a.status_changed_at, a.open_count,
		coalesce((SELECT array_agg(u.name ORDER BY u.name) FROM agent_units au JOIN business_units u ON u.tenant_id = au.tenant_id AND u.unit_id = au.unit_id
		  WHERE au.tenant_id = a.tenant_id AND au.agent_id = a.agent_id), '{}')
		FROM agents a WHERE a.tenant_id = sb_current_tenant()`

func scanAgentLoad(row pgx.Row) (*AgentLoad, error) {
	var a AgentLoad
	if err := row.Scan(&a.ID, &a.Name, &a.DisplayName, &a.Capacity, &a.ChosenStatus, &a.Status, &a.StatusChangedAt, &a.OpenCount, &a.Units); err != nil {
		return nil, err
	}
	return &a, nil
}

// GetAgentLoad reads one agent with its units.
func GetAgentLoad(ctx context.Context, tx pgx.Tx, agent uuid.UUID) (*AgentLoad, error) {
	return scanAgentLoad(tx.QueryRow(ctx, agentLoadSelect+` AND a.agent_id = $1`, agent))
}

// ListTenantAgentLoads lists every agent of the tenant with its units, by name.
func ListTenantAgentLoads(ctx context.Context, tx pgx.Tx) ([]*AgentLoad, error) {
	rows, err := tx.Query(ctx, agentLoadSelect+` ORDER BY a.name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*AgentLoad, error) { return scanAgentLoad(row) })
}

// OfflineMessageRow is a stored offline message with its unit's name.
type OfflineMessageRow struct {
	ID        uuid.UUID
	UnitName  string
	Name      string
	Email     string
	Body      string
	CreatedAt time.Time
}

// ListOfflineMessages pages through the offline messages of the given units, newest
// first, optionally matching a full-text query, after (older than) the message before.
func ListOfflineMessages(ctx context.Context, tx pgx.Tx, units []uuid.UUID, query string, before uuid.NullUUID, limit int) ([]OfflineMessageRow, error) {
	rows, err := tx.Query(ctx, `SELECT m.offline_message_id, u.name, m.name, m.email, m.body, m.created_at
		FROM offline_messages m JOIN business_units u ON u.tenant_id = m.tenant_id AND u.unit_id = m.unit_id
		WHERE m.tenant_id = sb_current_tenant() AND m.unit_id = ANY($1)
		  AND ($2 = '' OR to_tsvector('simple', m.body || ' ' || m.name || ' ' || m.email) @@ plainto_tsquery('simple', $2))
		  AND ($3::uuid IS NULL OR (m.created_at, m.offline_message_id) <
		       (SELECT created_at, offline_message_id FROM offline_messages WHERE tenant_id = sb_current_tenant() AND offline_message_id = $3))
		ORDER BY m.created_at DESC, m.offline_message_id DESC LIMIT $4`, units, query, before, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OfflineMessageRow
	for rows.Next() {
		var m OfflineMessageRow
		if err := rows.Scan(&m.ID, &m.UnitName, &m.Name, &m.Email, &m.Body, &m.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
