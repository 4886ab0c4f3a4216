package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Signal levels and sources.
const (
	LevelWarning  = "warning"
	LevelCritical = "critical"

	SourceLive  = "live"
	SourceAlert = "alert"
)

// Signal is an objective missed by a conversation, an agent or a unit: active until
// ClearedAt is set.
type Signal struct {
	ID        uuid.UUID
	Tenant    uuid.UUID
	Objective string
	Metric    string
	Level     string
	Source    string
	// Subject names what misses the objective; see ConversationSubject and UnitSubject.
	Subject      string
	Conversation uuid.NullUUID
	Agent        uuid.NullUUID
	AgentName    string
	Unit         uuid.NullUUID
	UnitName     string
	Value        float64
	Threshold    float64
	Summary      string
	RaisedAt     time.Time
	ClearedAt    *time.Time
}

// ConversationSubject is the subject of a conversation's live signals.
func ConversationSubject(conversation uuid.UUID) string {
	return "conversation:" + conversation.String()
}

// UnitSubject is the subject of an alert on a unit, or on the whole tenant for uuid.Nil.
func UnitSubject(unit uuid.UUID) string {
	if unit == uuid.Nil {
		return "tenant"
	}
	return "unit:" + unit.String()
}

const signalColumns = `s.signal_id, s.tenant_id, s.objective, s.metric, s.level, s.source, s.subject,
	s.conversation_id, s.agent_id, coalesce(a.name, ''), s.unit_id, coalesce(u.name, ''),
	s.value, s.threshold, s.summary, s.raised_at, s.cleared_at`

const signalJoins = `signals s
	LEFT JOIN agents a ON a.tenant_id = s.tenant_id AND a.agent_id = s.agent_id
	LEFT JOIN business_units u ON u.tenant_id = s.tenant_id AND u.unit_id = s.unit_id`

func scanSignal(row pgx.Row) (*Signal, error) {
	s := &Signal{}
	err := row.Scan(&s.ID, &s.Tenant, &s.Objective, &s.Metric, &s.Level, &s.Source, &s.Subject,
		&s.Conversation, &s.Agent, &s.AgentName, &s.Unit, &s.UnitName,
		&s.Value, &s.Threshold, &s.Summary, &s.RaisedAt, &s.ClearedAt)
	return s, err
}

// RaiseSignal stores s as the active signal of its objective and subject, clearing the one
// it replaces (a warning that became critical, or the reverse). raised is false when an
// identical signal is already active (another replica raised it first); s is then filled
// from the stored one. cleared is the signal replaced, if any.
func RaiseSignal(ctx context.Context, tx pgx.Tx, s *Signal) (raised bool, cleared *Signal, err error) {
	clearedList, raisedList, existing, err := ApplySignalChanges(ctx, tx, SignalChanges{Raise: []*Signal{s}})
	if err != nil {
		return false, nil, err
	}
	if len(clearedList) > 0 {
		cleared = clearedList[0]
	}
	switch {
	case len(raisedList) == 1:
		*s = *raisedList[0]
		return true, cleared, nil
	case len(existing) == 1:
		*s = *existing[0]
	}
	return false, cleared, nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// ClearSignal ends the active signal of an objective on a subject and returns it, or nil
// when none is active.
func ClearSignal(ctx context.Context, tx pgx.Tx, objective, subject string) (*Signal, error) {
	cleared, _, _, err := ApplySignalChanges(ctx, tx, SignalChanges{Clear: [][2]string{{objective, subject}}})
	if err != nil || len(cleared) == 0 {
		return nil, err
	}
	return cleared[0], nil
}

// GetSignal reads one signal of the current tenant.
func GetSignal(ctx context.Context, tx pgx.Tx, id uuid.UUID) (*Signal, error) {
	s, err := scanSignal(tx.QueryRow(ctx, `SELECT `+signalColumns+` FROM `+signalJoins+`
		WHERE s.tenant_id = sb_current_tenant() AND s.signal_id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return s, err
}

// SignalFilter chooses signals. Units nil means every unit; signals on the whole tenant
// (no unit) are listed only then.
type SignalFilter struct {
	Units        []uuid.UUID
	ActiveOnly   bool
	From, To     time.Time
	Conversation uuid.UUID
	// Conversations limits the list to these conversations' signals; nil means no limit.
	Conversations []uuid.UUID
	// Before continues a listing after the signal raised at BeforeAt with id BeforeID.
	BeforeAt time.Time
	BeforeID uuid.UUID
	Limit    int
}

// ListSignals lists the current tenant's signals, newest first.
func ListSignals(ctx context.Context, tx pgx.Tx, f SignalFilter) ([]*Signal, error) {
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	rows, err := tx.Query(ctx, `SELECT `+signalColumns+` FROM `+signalJoins+`
		WHERE s.tenant_id = sb_current_tenant()
		  AND ($1::uuid[] IS NULL OR s.unit_id = ANY($1))
		  AND (NOT $2 OR s.cleared_at IS NULL)
		  AND ($3::timestamptz IS NULL OR s.raised_at >= $3)
		  AND ($4::timestamptz IS NULL OR s.raised_at < $4)
		  AND ($5::uuid IS NULL OR s.conversation_id = $5)
		  AND ($6::timestamptz IS NULL OR (s.raised_at, s.signal_id) < ($6, $7))
		  AND ($9::uuid[] IS NULL OR s.conversation_id = ANY($9))
		ORDER BY s.raised_at DESC, s.signal_id DESC
		LIMIT $8`,
		f.Units, f.ActiveOnly, nullTime(f.From), nullTime(f.To), nullUUID(f.Conversation), nullTime(f.BeforeAt), f.BeforeID, f.Limit, f.Conversations)
	if err != nil {
		return nil, fmt.Errorf("listing signals: %w", err)
	}
	return collectSignals(rows)
}

func collectSignals(rows pgx.Rows) ([]*Signal, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Signal, error) { return scanSignal(row) })
}

func nullUUID(id uuid.UUID) uuid.NullUUID { return uuid.NullUUID{UUID: id, Valid: id != uuid.Nil} }

// ConversationTimes are the times of a conversation that its live signals follow.
type ConversationTimes struct {
	ID, Unit     uuid.UUID
	Agent        uuid.NullUUID
	State        string
	AssignedAt   *time.Time
	FirstAgentAt *time.Time
	LastAgentAt  *time.Time
	// AwaitingSince is the visitor's first message not answered by an agent yet.
	AwaitingSince *time.Time
	ClosedAt      *time.Time
}

// Open reports whether the conversation is held by an agent.
func (c *ConversationTimes) Open() bool { return c.State == StateAssigned || c.State == StateActive }

const conversationTimesSQL = `SELECT c.conversation_id, c.unit_id, c.agent_id, c.state, c.assigned_at,
	c.first_agent_message_at, c.last_agent_message_at,
	CASE WHEN c.last_visitor_message_at > coalesce(c.last_agent_message_at, '-infinity') THEN
		(SELECT min(e.created_at) FROM events e
		 WHERE e.tenant_id = c.tenant_id AND e.conversation_id = c.conversation_id AND e.kind = 'message'
		   AND e.author_kind = 'visitor' AND e.created_at > coalesce(c.last_agent_message_at, '-infinity'))
	END,
	c.closed_at
	FROM conversations c WHERE c.tenant_id = sb_current_tenant()`

func collectTimes(rows pgx.Rows) ([]*ConversationTimes, error) {
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*ConversationTimes, error) {
		c := &ConversationTimes{}
		err := row.Scan(&c.ID, &c.Unit, &c.Agent, &c.State, &c.AssignedAt, &c.FirstAgentAt, &c.LastAgentAt, &c.AwaitingSince, &c.ClosedAt)
		return c, err
	})
}

// ConversationsTimes reads the times of the current tenant's conversations named.
func ConversationsTimes(ctx context.Context, tx pgx.Tx, ids []uuid.UUID) ([]*ConversationTimes, error) {
	rows, err := tx.Query(ctx, conversationTimesSQL+` AND c.conversation_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("reading conversations' times: %w", err)
	}
	return collectTimes(rows)
}

// SignalObjective is an objective as live signals use it.
type SignalObjective struct {
	Name, Metric              string
	Unit                      uuid.NullUUID
	AgentSelector             []byte
	Target, Warning, Critical float64
}

// SignalAgent is an agent as objectives' selectors see it.
type SignalAgent struct {
	ID     uuid.UUID
	Name   string
	Labels map[string]string
}

// SignalState is everything a tenant's live signals are evaluated from.
type SignalState struct {
	TenantName    string
	Units         map[uuid.UUID]string
	Agents        map[uuid.UUID]SignalAgent
	Objectives    []SignalObjective
	Conversations []*ConversationTimes
	Active        []*Signal
}

// LoadSignalState reads the current tenant's units, agents, objectives of the given
// metrics, open conversations and active signals.
func LoadSignalState(ctx context.Context, tx pgx.Tx, metrics []string) (*SignalState, error) {
	st := &SignalState{Units: map[uuid.UUID]string{}, Agents: map[uuid.UUID]SignalAgent{}}
	if err := tx.QueryRow(ctx, `SELECT name FROM tenants WHERE tenant_id = sb_current_tenant()`).Scan(&st.TenantName); err != nil {
		return nil, fmt.Errorf("reading tenant: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT unit_id, name FROM business_units WHERE tenant_id = sb_current_tenant()`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id uuid.UUID
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		st.Units[id] = name
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT agent_id, name, labels FROM agents WHERE tenant_id = sb_current_tenant()`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var a SignalAgent
		if err := rows.Scan(&a.ID, &a.Name, &a.Labels); err != nil {
			return nil, err
		}
		st.Agents[a.ID] = a
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT name, metric, unit_id, agent_selector, target, warning, critical
		FROM objectives WHERE tenant_id = sb_current_tenant() AND metric = ANY($1) ORDER BY name`, metrics)
	if err != nil {
		return nil, err
	}
	st.Objectives, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (SignalObjective, error) {
		var o SignalObjective
		err := row.Scan(&o.Name, &o.Metric, &o.Unit, &o.AgentSelector, &o.Target, &o.Warning, &o.Critical)
		return o, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading objectives: %w", err)
	}
	// Signals first: a conversation of a signal read here is open, or seen closed by the
	// next statement, which reads later.
	if st.Active, err = ListSignals(ctx, tx, SignalFilter{ActiveOnly: true, Limit: 1 << 30}); err != nil {
		return nil, err
	}
	if rows, err = tx.Query(ctx, conversationTimesSQL+` AND c.state IN ('assigned', 'active')`); err != nil {
		return nil, err
	}
	if st.Conversations, err = collectTimes(rows); err != nil {
		return nil, fmt.Errorf("reading open conversations: %w", err)
	}
	return st, nil
}

// CountActiveSignals counts a tenant's active signals of one objective (for the
// operator, which reads every tenant).
func CountActiveSignals(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, objective string) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM signals WHERE tenant_id = $1 AND objective = $2 AND cleared_at IS NULL`, tenant, objective).Scan(&n)
	return n, err
}

// SignalChanges are live signals to raise and clear together.
type SignalChanges struct {
	// Raise are signals to make active, each replacing the active signal of its objective
	// and subject if that one has another level.
	Raise []*Signal
	// Clear are (objective, subject) pairs whose active signal ends.
	Clear [][2]string
}

// ApplySignalChanges raises and clears many signals of the current tenant in a few
// statements, whatever their number. It returns the signals cleared (those replaced
// included) and the signals raised; a signal another replica raised first is neither
// raised nor cleared here, and comes back in existing.
func ApplySignalChanges(ctx context.Context, tx pgx.Tx, c SignalChanges) (cleared, raised, existing []*Signal, err error) {
	// Clear what is to clear, and what a raise replaces at another level.
	var objectives, subjects, keepLevels []string
	for _, k := range c.Clear {
		objectives, subjects, keepLevels = append(objectives, k[0]), append(subjects, k[1]), append(keepLevels, "")
	}
	for _, s := range c.Raise {
		objectives, subjects, keepLevels = append(objectives, s.Objective), append(subjects, s.Subject), append(keepLevels, s.Level)
	}
	if len(objectives) > 0 {
		rows, err := tx.Query(ctx, `UPDATE signals s SET cleared_at = now()
			FROM unnest($1::text[], $2::text[], $3::text[]) AS k(objective, subject, keep)
			WHERE s.tenant_id = sb_current_tenant() AND s.cleared_at IS NULL
			  AND s.objective = k.objective AND s.subject = k.subject AND s.level <> k.keep
			RETURNING s.signal_id`, objectives, subjects, keepLevels)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("clearing signals: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return nil, nil, nil, fmt.Errorf("clearing signals: %w", err)
		}
		if cleared, err = signalsByID(ctx, tx, ids); err != nil {
			return nil, nil, nil, err
		}
	}
	if len(c.Raise) == 0 {
		return cleared, nil, nil, nil
	}
	n := len(c.Raise)
	cols := struct {
		objective, metric, level, source, subject, summary []string
		conversation, agent, unit                          []uuid.NullUUID
		value, threshold                                   []float64
		raisedAt                                           []*time.Time
	}{}
	for _, s := range c.Raise {
		cols.objective, cols.metric, cols.level = append(cols.objective, s.Objective), append(cols.metric, s.Metric), append(cols.level, s.Level)
		cols.source, cols.subject, cols.summary = append(cols.source, s.Source), append(cols.subject, s.Subject), append(cols.summary, s.Summary)
		cols.conversation, cols.agent, cols.unit = append(cols.conversation, s.Conversation), append(cols.agent, s.Agent), append(cols.unit, s.Unit)
		cols.value, cols.threshold = append(cols.value, s.Value), append(cols.threshold, s.Threshold)
		cols.raisedAt = append(cols.raisedAt, nullTime(s.RaisedAt))
	}
	rows, err := tx.Query(ctx, `INSERT INTO signals (tenant_id, objective, metric, level, source, subject,
			conversation_id, agent_id, unit_id, value, threshold, summary, raised_at)
		SELECT sb_current_tenant(), r.objective, r.metric, r.level, r.source, r.subject,
			r.conversation_id, r.agent_id, r.unit_id, r.value, r.threshold, r.summary, coalesce(r.raised_at, now())
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
			$6::uuid[], $7::uuid[], $8::uuid[], $9::float8[], $10::float8[], $11::text[], $12::timestamptz[])
			AS r(objective, metric, level, source, subject, conversation_id, agent_id, unit_id, value, threshold, summary, raised_at)
		ON CONFLICT (tenant_id, objective, subject) WHERE cleared_at IS NULL DO NOTHING
		RETURNING signal_id`,
		cols.objective, cols.metric, cols.level, cols.source, cols.subject,
		cols.conversation, cols.agent, cols.unit, cols.value, cols.threshold, cols.summary, cols.raisedAt)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("raising %d signals: %w", n, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, nil, nil, fmt.Errorf("raising %d signals: %w", n, err)
	}
	if raised, err = signalsByID(ctx, tx, ids); err != nil {
		return nil, nil, nil, err
	}
	if len(raised) < n {
		// Raised concurrently by another replica: read what is active for the rest.
		mine := map[[2]string]bool{}
		for _, s := range raised {
			mine[[2]string{s.Objective, s.Subject}] = true
		}
		var objectives, subjects []string
		for _, s := range c.Raise {
			if !mine[[2]string{s.Objective, s.Subject}] {
				objectives, subjects = append(objectives, s.Objective), append(subjects, s.Subject)
			}
		}
		rows, err := tx.Query(ctx, `SELECT `+signalColumns+` FROM `+signalJoins+`
			JOIN unnest($1::text[], $2::text[]) AS k(objective, subject) ON k.objective = s.objective AND k.subject = s.subject
			WHERE s.tenant_id = sb_current_tenant() AND s.cleared_at IS NULL`, objectives, subjects)
		if err != nil {
			return nil, nil, nil, err
		}
		if existing, err = collectSignals(rows); err != nil {
			return nil, nil, nil, err
		}
	}
	return cleared, raised, existing, nil
}

func signalsByID(ctx context.Context, tx pgx.Tx, ids []uuid.UUID) ([]*Signal, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `SELECT `+signalColumns+` FROM `+signalJoins+`
		WHERE s.tenant_id = sb_current_tenant() AND s.signal_id = ANY($1) ORDER BY s.raised_at, s.signal_id`, ids)
	if err != nil {
		return nil, fmt.Errorf("reading signals: %w", err)
	}
	return collectSignals(rows)
}
