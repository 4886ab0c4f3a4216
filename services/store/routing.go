package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Routing errors the services turn into API codes.
var (
	// ErrNobodyOnline: no agent of the unit has a stream open.
	ErrNobodyOnline = errors.New("no agent of the business unit is online")
	// ErrClosed: the conversation is closed.
	ErrClosed = errors.New("conversation is closed")
	// ErrNotYours: the conversation is not assigned to the agent.
	ErrNotYours = errors.New("conversation is not assigned to you")
	// ErrAgentUnavailable: the target agent is not available or at capacity.
	ErrAgentUnavailable = errors.New("agent is not available or has no free slot")
	// ErrSameTarget: a transfer to where the conversation already is.
	ErrSameTarget = errors.New("conversation is already there")
)

// Unit is a business unit's routing configuration.
type Unit struct {
	ID                     uuid.UUID
	Name                   string
	DisplayName            string
	AcceptsOfflineMessages bool
	AgentsOnline           int
	// Hours are the unit's opening hours; nil means always open.
	Hours *BusinessHours
}

// Available reports whether the unit takes chats now: open, with an agent online.
func (u *Unit) Available(now time.Time) bool {
	return u.AgentsOnline > 0 && u.Hours.OpenAt(now)
}

// unitSelect reads units with the number of their agents online.
const unitSelect = `SELECT u.unit_id, u.name, u.display_name, u.accepts_offline_messages, u.business_hours,
		(SELECT count(*) FROM agent_units au JOIN agents a ON a.tenant_id = au.tenant_id AND a.agent_id = au.agent_id
		  WHERE au.tenant_id = u.tenant_id AND au.unit_id = u.unit_id AND a.status <> 'offline')
		FROM business_units u WHERE u.tenant_id = sb_current_tenant()`

func scanUnit(row pgx.Row) (*Unit, error) {
	var u Unit
	if err := row.Scan(&u.ID, &u.Name, &u.DisplayName, &u.AcceptsOfflineMessages, &u.Hours, &u.AgentsOnline); err != nil {
		return nil, err
	}
	return &u, nil
}

// GetUnit reads a unit by name with the number of its agents online.
func GetUnit(ctx context.Context, tx pgx.Tx, name string) (*Unit, error) {
	u, err := scanUnit(tx.QueryRow(ctx, unitSelect+` AND u.name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return u, err
}

// ListUnits lists the tenant's units with the number of their agents online, by name.
func ListUnits(ctx context.Context, tx pgx.Tx) ([]*Unit, error) {
	rows, err := tx.Query(ctx, unitSelect+` ORDER BY u.name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Unit, error) { return scanUnit(row) })
}

// Routed is what a routing step changed: the conversation as it is now, the events it
// stored in order, and the agents whose assignments changed.
type Routed struct {
	Conversation *Conversation
	Events       []*Event
	// Agents lists agents that gained or lost the conversation.
	Agents []uuid.UUID
	// Freed lists agents that lost a slot, whose units may now dispatch queued work.
	Freed []uuid.UUID
}

// NewConversation is a visitor's request to chat.
type NewConversation struct {
	ID   uuid.UUID
	Unit *Unit
	// Visitor and Session are the visitor's, from RecordVisit.
	Visitor          uuid.UUID
	Session          uuid.UUID
	VisitorName      string
	PageURL          string
	VisitorTokenHash []byte
}

// StartConversation opens a conversation and routes it: to the least-loaded available
// agent of the unit below capacity when the unit's queue is empty, else to the back of
// the queue. It holds the unit's row lock, so routing within a unit is serial.
func StartConversation(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, n NewConversation) (*Routed, error) {
	if err := lockUnit(ctx, tx, n.Unit.ID); err != nil {
		return nil, err
	}
	visitor := n.Visitor
	var conv uuid.UUID
	if err := tx.QueryRow(ctx, `INSERT INTO conversations (tenant_id, conversation_id, unit_id, visitor_id, session_id, state, visitor_token_hash, page_url)
		VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7) RETURNING conversation_id`,
		tenant, n.ID, n.Unit.ID, visitor, n.Session, n.VisitorTokenHash, n.PageURL).Scan(&conv); err != nil {
		return nil, fmt.Errorf("storing conversation: %w", err)
	}
	r := &Routed{}
	started, err := appendSystemEvent(ctx, tx, tenant, conv, SystemStarted, "", n.Unit.Name, "", Author{Kind: AuthorVisitor, ID: visitor.String(), Name: n.VisitorName})
	if err != nil {
		return nil, err
	}
	r.Events = append(r.Events, started)

	var ahead bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM conversations WHERE tenant_id = $1 AND unit_id = $2
		AND state = 'queued' AND conversation_id <> $3)`, tenant, n.Unit.ID, conv).Scan(&ahead); err != nil {
		return nil, fmt.Errorf("reading the unit's queue: %w", err)
	}
	assigned := false
	if !ahead {
		assigned, err = assignToFreeAgent(ctx, tx, tenant, n.Unit, conv, r)
		if err != nil {
			return nil, err
		}
	}
	if !assigned {
		queued, err := appendSystemEvent(ctx, tx, tenant, conv, SystemQueued, "", n.Unit.Name, "", SystemAuthor)
		if err != nil {
			return nil, err
		}
		r.Events = append(r.Events, queued)
	}
	r.Conversation, err = GetConversation(ctx, tx, conv)
	return r, err
}

func lockUnit(ctx context.Context, tx pgx.Tx, unit uuid.UUID) error {
	tag, err := tx.Exec(ctx, `SELECT 1 FROM business_units WHERE tenant_id = sb_current_tenant() AND unit_id = $1 FOR UPDATE`, unit)
	if err != nil {
		return fmt.Errorf("locking business unit: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// takeSlot raises the open count of the least-loaded available agent of the unit that is
// below capacity and returns it. The UPDATE re-checks status and capacity under the
// agent's row lock, so two routers can never push an agent past its capacity; when it
// loses such a race it tries the next agent.
func takeSlot(ctx context.Context, tx pgx.Tx, tenant, unit uuid.UUID) (uuid.UUID, string, bool, error) {
	for attempt := 0; attempt < 10; attempt++ {
		var candidate uuid.UUID
		err := tx.QueryRow(ctx, `SELECT a.agent_id FROM agents a
			JOIN agent_units au ON au.tenant_id = a.tenant_id AND au.agent_id = a.agent_id
			JOIN tenants t ON t.tenant_id = a.tenant_id
			WHERE au.tenant_id = $1 AND au.unit_id = $2 AND a.status = 'available' AND a.open_count < a.capacity
			  AND NOT t.suspended
			ORDER BY a.open_count, a.last_assigned_at, a.agent_id LIMIT 1`, tenant, unit).Scan(&candidate)
		if errors.Is(err, pgx.ErrNoRows) {
			return uuid.Nil, "", false, nil
		}
		if err != nil {
			return uuid.Nil, "", false, fmt.Errorf("choosing an agent: %w", err)
		}
		agent, name, ok, err := takeAgentSlot(ctx, tx, tenant, candidate)
		if err != nil || ok {
			return agent, name, ok, err
		}
	}
	return uuid.Nil, "", false, nil
}

// CanTakeConversation reports whether the agent may be given one more conversation now:
// available and below capacity, what takeAgentSlot checks under the agent's row lock.
func (a *Agent) CanTakeConversation() bool {
	return a.Status == "available" && a.OpenCount < a.Capacity
}

// takeAgentSlot raises one agent's open count if it is available and below capacity.
func takeAgentSlot(ctx context.Context, tx pgx.Tx, tenant, agent uuid.UUID) (uuid.UUID, string, bool, error) {
	var name string
	err := tx.QueryRow(ctx, `UPDATE agents SET open_count = open_count + 1, last_assigned_at = clock_timestamp()
		WHERE tenant_id = $1 AND agent_id = $2 AND status = 'available' AND open_count < capacity
		RETURNING name`, tenant, agent).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, "", false, nil
	}
	if err != nil {
		return uuid.Nil, "", false, fmt.Errorf("taking a slot of agent %s: %w", agent, err)
	}
	return agent, name, true, nil
}

func releaseSlot(ctx context.Context, tx pgx.Tx, tenant, agent uuid.UUID) error {
	_, err := tx.Exec(ctx, `UPDATE agents SET open_count = open_count - 1 WHERE tenant_id = $1 AND agent_id = $2`, tenant, agent)
	if err != nil {
		return fmt.Errorf("releasing a slot of agent %s: %w", agent, err)
	}
	return nil
}

func assignToFreeAgent(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, unit *Unit, conv uuid.UUID, r *Routed) (bool, error) {
	agent, name, ok, err := takeSlot(ctx, tx, tenant, unit.ID)
	if err != nil || !ok {
		return false, err
	}
	return true, assign(ctx, tx, tenant, conv, agent, name, unit.Name, r)
}

func assign(ctx context.Context, tx pgx.Tx, tenant, conv, agent uuid.UUID, agentName, unitName string, r *Routed) error {
	if _, err := tx.Exec(ctx, `UPDATE conversations SET state = 'assigned', agent_id = $3, assigned_at = clock_timestamp(), accepted_at = NULL
		WHERE tenant_id = $1 AND conversation_id = $2`, tenant, conv, agent); err != nil {
		return fmt.Errorf("assigning conversation: %w", err)
	}
	e, err := appendSystemEvent(ctx, tx, tenant, conv, SystemAssigned, agentName, unitName, "", SystemAuthor)
	if err != nil {
		return err
	}
	r.Events = append(r.Events, e)
	r.Agents = append(r.Agents, agent)
	return nil
}

// DispatchOne assigns the unit's oldest queued conversation to a free agent, if there is
// both. It returns nil when nothing was assigned.
func DispatchOne(ctx context.Context, tx pgx.Tx, tenant, unit uuid.UUID) (*Routed, error) {
	if err := lockUnit(ctx, tx, unit); err != nil {
		return nil, err
	}
	var conv uuid.UUID
	var unitName string
	err := tx.QueryRow(ctx, `SELECT c.conversation_id, u.name FROM conversations c
		JOIN business_units u ON u.tenant_id = c.tenant_id AND u.unit_id = c.unit_id
		WHERE c.tenant_id = $1 AND c.unit_id = $2 AND c.state = 'queued'
		ORDER BY c.queued_at, c.conversation_id LIMIT 1 FOR UPDATE OF c`, tenant, unit).Scan(&conv, &unitName)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the queue: %w", err)
	}
	r := &Routed{}
	ok, err := assignToFreeAgent(ctx, tx, tenant, &Unit{ID: unit, Name: unitName}, conv, r)
	if err != nil || !ok {
		return nil, err
	}
	r.Conversation, err = GetConversation(ctx, tx, conv)
	return r, err
}

// UnitsWithQueueForAgents lists the units of the given agents that have queued
// conversations, the unit with the longest-waiting conversation first.
func UnitsWithQueueForAgents(ctx context.Context, tx pgx.Tx, agents []uuid.UUID) ([]uuid.UUID, error) {
	rows, err := tx.Query(ctx, `SELECT c.unit_id FROM conversations c
		WHERE c.tenant_id = sb_current_tenant() AND c.state = 'queued'
		  AND c.unit_id IN (SELECT unit_id FROM agent_units WHERE tenant_id = sb_current_tenant() AND agent_id = ANY($1))
		GROUP BY c.unit_id ORDER BY min(c.queued_at)`, agents)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}

// UnitsWithQueue lists every unit of the tenant with queued conversations.
func UnitsWithQueue(ctx context.Context, tx pgx.Tx) ([]uuid.UUID, error) {
	rows, err := tx.Query(ctx, `SELECT unit_id FROM conversations WHERE tenant_id = sb_current_tenant() AND state = 'queued'
		GROUP BY unit_id ORDER BY min(queued_at)`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}

// AcceptConversation makes an assigned conversation active for its agent. Accepting an
// active conversation again changes nothing.
func AcceptConversation(ctx context.Context, tx pgx.Tx, tenant, conv, agent uuid.UUID, by Author) (*Routed, error) {
	c, err := LockConversation(ctx, tx, conv)
	if err != nil {
		return nil, err
	}
	if c.State == StateClosed {
		return nil, ErrClosed
	}
	if !c.AgentID.Valid || c.AgentID.UUID != agent {
		return nil, ErrNotYours
	}
	r := &Routed{Conversation: c}
	if c.State == StateActive {
		return r, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE conversations SET state = 'active', accepted_at = clock_timestamp()
		WHERE tenant_id = $1 AND conversation_id = $2`, tenant, conv); err != nil {
		return nil, fmt.Errorf("accepting conversation: %w", err)
	}
	e, err := appendSystemEvent(ctx, tx, tenant, conv, SystemAccepted, c.AgentName, c.UnitName, "", by)
	if err != nil {
		return nil, err
	}
	r.Events = append(r.Events, e)
	r.Agents = append(r.Agents, agent)
	r.Conversation, err = GetConversation(ctx, tx, conv)
	return r, err
}

// Check decides, under the conversation's row lock, whether the caller may change it.
type Check func(*Conversation) error

// lockOpen locks a conversation the caller may change and that is still open.
func lockOpen(ctx context.Context, tx pgx.Tx, conv uuid.UUID, allow Check) (*Conversation, error) {
	c, err := LockConversation(ctx, tx, conv)
	if err != nil {
		return nil, err
	}
	if err := allow(c); err != nil {
		return nil, err
	}
	if c.State == StateClosed {
		return nil, ErrClosed
	}
	return c, nil
}

// CloseConversation ends an open conversation and frees its agent's slot.
func CloseConversation(ctx context.Context, tx pgx.Tx, tenant, conv uuid.UUID, reason string, by Author, allow Check) (*Routed, error) {
	c, err := lockOpen(ctx, tx, conv, allow)
	if err != nil {
		return nil, err
	}
	r := &Routed{}
	if c.AgentID.Valid {
		if err := releaseSlot(ctx, tx, tenant, c.AgentID.UUID); err != nil {
			return nil, err
		}
		r.Agents = append(r.Agents, c.AgentID.UUID)
		r.Freed = append(r.Freed, c.AgentID.UUID)
	}
	if _, err := tx.Exec(ctx, `UPDATE conversations SET state = 'closed', closed_at = clock_timestamp()
		WHERE tenant_id = $1 AND conversation_id = $2`, tenant, conv); err != nil {
		return nil, fmt.Errorf("closing conversation: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM drafts WHERE tenant_id = $1 AND conversation_id = $2`, tenant, conv); err != nil {
		return nil, fmt.Errorf("clearing drafts: %w", err)
	}
	e, err := appendSystemEvent(ctx, tx, tenant, conv, SystemClosed, c.AgentName, c.UnitName, reason, by)
	if err != nil {
		return nil, err
	}
	r.Events = append(r.Events, e)
	r.Conversation, err = GetConversation(ctx, tx, conv)
	return r, err
}

// Transfer names where a conversation goes: an agent, or a unit.
type Transfer struct {
	AgentName string
	UnitName  string
	Note      string
}

// TransferConversation hands an open conversation to an agent (who must be available and
// below capacity) or to a unit, where it is routed like a new conversation, ahead of
// conversations that started later. The conversation keeps its place by start time.
func TransferConversation(ctx context.Context, tx pgx.Tx, tenant, conv uuid.UUID, t Transfer, by Author, allow Check) (*Routed, error) {
	c, err := lockOpen(ctx, tx, conv, allow)
	if err != nil {
		return nil, err
	}
	r := &Routed{}
	release := func() error {
		if !c.AgentID.Valid {
			return nil
		}
		r.Agents = append(r.Agents, c.AgentID.UUID)
		r.Freed = append(r.Freed, c.AgentID.UUID)
		return releaseSlot(ctx, tx, tenant, c.AgentID.UUID)
	}
	if t.AgentName != "" {
		var target uuid.UUID
		err := tx.QueryRow(ctx, `SELECT agent_id FROM agents WHERE tenant_id = $1 AND name = $2`, tenant, t.AgentName).Scan(&target)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("agent %q: %w", t.AgentName, ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("reading agent: %w", err)
		}
		if c.AgentID.Valid && c.AgentID.UUID == target {
			return nil, ErrSameTarget
		}
		_, name, ok, err := takeAgentSlot(ctx, tx, tenant, target)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrAgentUnavailable
		}
		if err := release(); err != nil {
			return nil, err
		}
		e, err := appendSystemEvent(ctx, tx, tenant, conv, SystemTransferred, name, c.UnitName, t.Note, by)
		if err != nil {
			return nil, err
		}
		r.Events = append(r.Events, e)
		if err := assign(ctx, tx, tenant, conv, target, name, c.UnitName, r); err != nil {
			return nil, err
		}
		r.Conversation, err = GetConversation(ctx, tx, conv)
		return r, err
	}

	unit, err := GetUnit(ctx, tx, t.UnitName)
	if err != nil {
		return nil, fmt.Errorf("business unit %q: %w", t.UnitName, err)
	}
	if err := release(); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `UPDATE conversations SET state = 'queued', agent_id = NULL, unit_id = $3,
		queued_at = created_at, assigned_at = NULL, accepted_at = NULL
		WHERE tenant_id = $1 AND conversation_id = $2`, tenant, conv, unit.ID); err != nil {
		return nil, fmt.Errorf("moving conversation to unit: %w", err)
	}
	e, err := appendSystemEvent(ctx, tx, tenant, conv, SystemTransferred, "", unit.Name, t.Note, by)
	if err != nil {
		return nil, err
	}
	r.Events = append(r.Events, e)
	r.Conversation, err = GetConversation(ctx, tx, conv)
	return r, err
}

// Agent is an agent row.
type Agent struct {
	ID              uuid.UUID
	Name            string
	DisplayName     string
	Capacity        int
	ChosenStatus    string
	Status          string
	StatusChangedAt time.Time
	OpenCount       int
}

// GetAgent reads an agent.
func GetAgent(ctx context.Context, tx pgx.Tx, id uuid.UUID) (*Agent, error) {
	var a Agent
	err := tx.QueryRow(ctx, `SELECT agent_id, name, display_name, capacity, chosen_status, status, status_changed_at, open_count
		FROM agents WHERE tenant_id = sb_current_tenant() AND agent_id = $1`, id).Scan(
		&a.ID, &a.Name, &a.DisplayName, &a.Capacity, &a.ChosenStatus, &a.Status, &a.StatusChangedAt, &a.OpenCount)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &a, err
}

// SetChosenStatus records the status an agent picked; while the agent is online it is
// also its status. It returns the agent after the change.
func SetChosenStatus(ctx context.Context, tx pgx.Tx, agent uuid.UUID, chosen string) (*Agent, error) {
	if _, err := tx.Exec(ctx, `UPDATE agents SET chosen_status = $2,
		status_changed_at = CASE WHEN status <> 'offline' AND status <> $2 THEN clock_timestamp() ELSE status_changed_at END,
		status = CASE WHEN status <> 'offline' THEN $2 ELSE status END
		WHERE tenant_id = sb_current_tenant() AND agent_id = $1`, agent, chosen); err != nil {
		return nil, fmt.Errorf("setting status: %w", err)
	}
	return GetAgent(ctx, tx, agent)
}

// PresenceTTL is how long a replica's presence rows live without a refresh.
const PresenceTTL = 30 * time.Second

// StreamOpened counts one more open stream of the agent on this replica and brings the
// agent online with its chosen status.
func StreamOpened(ctx context.Context, tx pgx.Tx, tenant, agent, replica uuid.UUID) (*Agent, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO agent_presence (tenant_id, agent_id, replica_id, streams, expires_at)
		VALUES ($1, $2, $3, 1, now() + $4::interval)
		ON CONFLICT (tenant_id, agent_id, replica_id) DO UPDATE SET streams = agent_presence.streams + 1, expires_at = excluded.expires_at`,
		tenant, agent, replica, PresenceTTL.String()); err != nil {
		return nil, fmt.Errorf("recording presence: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE agents SET status = chosen_status, status_changed_at = clock_timestamp()
		WHERE tenant_id = $1 AND agent_id = $2 AND status = 'offline'`, tenant, agent); err != nil {
		return nil, fmt.Errorf("bringing agent online: %w", err)
	}
	return GetAgent(ctx, tx, agent)
}

// StreamClosed counts one stream less; with no live stream left anywhere the agent goes
// offline.
func StreamClosed(ctx context.Context, tx pgx.Tx, tenant, agent, replica uuid.UUID) (*Agent, error) {
	// The last stream's row goes before the others count one less: the other way round,
	// a row going from two streams to one would go too.
	if _, err := tx.Exec(ctx, `DELETE FROM agent_presence
		WHERE tenant_id = $1 AND agent_id = $2 AND ((replica_id = $3 AND streams = 1) OR expires_at < now())`, tenant, agent, replica); err != nil {
		return nil, fmt.Errorf("recording presence: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE agent_presence SET streams = streams - 1
		WHERE tenant_id = $1 AND agent_id = $2 AND replica_id = $3 AND streams > 1`, tenant, agent, replica); err != nil {
		return nil, fmt.Errorf("recording presence: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE agents SET status = 'offline', status_changed_at = clock_timestamp()
		WHERE tenant_id = $1 AND agent_id = $2 AND status <> 'offline'
		  AND NOT EXISTS (SELECT 1 FROM agent_presence p WHERE p.tenant_id = $1 AND p.agent_id = $2)`, tenant, agent); err != nil {
		return nil, fmt.Errorf("taking agent offline: %w", err)
	}
	return GetAgent(ctx, tx, agent)
}

// RefreshPresence extends this replica's presence rows of the tenant.
func RefreshPresence(ctx context.Context, tx pgx.Tx, replica uuid.UUID) error {
	_, err := tx.Exec(ctx, `UPDATE agent_presence SET expires_at = now() + $2::interval
		WHERE tenant_id = sb_current_tenant() AND replica_id = $1`, replica, PresenceTTL.String())
	return err
}

// ExpirePresence removes presence rows of replicas that stopped refreshing them and takes
// agents left without a stream offline. It returns those agents' ids.
func ExpirePresence(ctx context.Context, tx pgx.Tx) ([]uuid.UUID, error) {
	if _, err := tx.Exec(ctx, `DELETE FROM agent_presence WHERE tenant_id = sb_current_tenant() AND expires_at < now()`); err != nil {
		return nil, fmt.Errorf("expiring presence: %w", err)
	}
	rows, err := tx.Query(ctx, `UPDATE agents a SET status = 'offline', status_changed_at = clock_timestamp()
		WHERE a.tenant_id = sb_current_tenant() AND a.status <> 'offline'
		  AND NOT EXISTS (SELECT 1 FROM agent_presence p WHERE p.tenant_id = a.tenant_id AND p.agent_id = a.agent_id)
		RETURNING a.agent_id`)
	if err != nil {
		return nil, fmt.Errorf("taking agents offline: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}

// TenantIDs lists every tenant's id, for the per-tenant housekeeping of a replica.
// It reads through a function owned by the schema owner.
func (db *DB) TenantIDs(ctx context.Context) ([]uuid.UUID, error) {
	rows, err := db.Pool.Query(ctx, `SELECT tenant_id FROM sb_tenant_ids()`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}
