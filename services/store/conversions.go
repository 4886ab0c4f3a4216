package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Conversion is a sale a tenant's backend reported, attributed to a conversation.
type Conversion struct {
	OrderID string
	// Amount is the decimal as stored, e.g. "129.90".
	Amount       string
	Currency     string
	Conversation uuid.UUID
	AgentName    string
	UnitName     string
	OccurredAt   time.Time
	RecordedAt   time.Time
}

// NewConversion is a sale to record: attributed to Conversation, or else to the latest
// conversation of Visitor within VisitorWindow.
type NewConversion struct {
	OrderID      string
	Amount       string
	Currency     string
	Conversation uuid.UUID
	Visitor      uuid.UUID
	// OccurredAt zero means now.
	OccurredAt time.Time
}

// VisitorWindow is how far back a visitor's latest conversation is looked for.
const VisitorWindow = 30 * 24 * time.Hour

var (
	// ErrNoRecentConversation is returned for a visitor without a conversation in VisitorWindow.
	ErrNoRecentConversation = errors.New("the visitor has no conversation in the last 30 days")
	// ErrOrderConflict is returned for an order id already recorded with another amount or currency.
	ErrOrderConflict = errors.New("the order id is already recorded with another amount or currency")
)

const conversionColumns = `cv.order_id, cv.amount::text, cv.currency, cv.conversation_id, coalesce(a.name, ''), u.name, cv.occurred_at, cv.recorded_at`
const conversionFrom = `conversions cv
	JOIN business_units u ON u.tenant_id = cv.tenant_id AND u.unit_id = cv.unit_id
	LEFT JOIN agents a ON a.tenant_id = cv.tenant_id AND a.agent_id = cv.agent_id`

// RecordConversion stores a sale once per order id. A resend of the same order (same
// amount and currency) returns the stored one with duplicate true; another amount or
// currency is ErrOrderConflict. Concurrent resends store one row: the insert waits for the
// first and then finds it. ErrNotFound when the conversation or visitor is not the
// tenant's; ErrNoRecentConversation when the visitor has none lately.
func RecordConversion(ctx context.Context, tx pgx.Tx, tenant uuid.UUID, n NewConversion) (c *Conversion, duplicate bool, err error) {
	if c, err := storedConversion(ctx, tx, n); !errors.Is(err, ErrNotFound) {
		return c, err == nil, err
	}
	conv := n.Conversation
	if conv == uuid.Nil {
		if conv, err = latestConversation(ctx, tx, n.Visitor); err != nil {
			return nil, false, err
		}
	}
	var order string
	err = tx.QueryRow(ctx, `INSERT INTO conversions (tenant_id, order_id, amount, currency, conversation_id, agent_id, unit_id, occurred_at)
		SELECT $1, $2, $3::numeric, $4, c.conversation_id, c.agent_id, c.unit_id, coalesce($6, now())
		FROM conversations c WHERE c.tenant_id = $1 AND c.conversation_id = $5
		ON CONFLICT (tenant_id, order_id) DO NOTHING
		RETURNING order_id`, tenant, n.OrderID, n.Amount, n.Currency, conv, nullTime(n.OccurredAt)).Scan(&order)
	if errors.Is(err, pgx.ErrNoRows) {
		// Either a concurrent call stored the order first, or the conversation is not the
		// tenant's (ErrNotFound).
		c, err := storedConversion(ctx, tx, n)
		return c, err == nil, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("storing conversion %q: %w", n.OrderID, err)
	}
	c, err = scanConversion(tx.QueryRow(ctx, `SELECT `+conversionColumns+` FROM `+conversionFrom+`
		WHERE cv.tenant_id = $1 AND cv.order_id = $2`, tenant, n.OrderID))
	return c, false, err
}

// storedConversion reads the order if stored: ErrNotFound when not, ErrOrderConflict when
// stored with another amount or currency.
func storedConversion(ctx context.Context, tx pgx.Tx, n NewConversion) (*Conversion, error) {
	var same bool
	c := &Conversion{}
	err := tx.QueryRow(ctx, `SELECT `+conversionColumns+`, cv.amount = $2::numeric AND cv.currency = $3 FROM `+conversionFrom+`
		WHERE cv.tenant_id = sb_current_tenant() AND cv.order_id = $1`, n.OrderID, n.Amount, n.Currency).Scan(
		&c.OrderID, &c.Amount, &c.Currency, &c.Conversation, &c.AgentName, &c.UnitName, &c.OccurredAt, &c.RecordedAt, &same)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, ErrNotFound
	case err != nil:
		return nil, fmt.Errorf("reading conversion %q: %w", n.OrderID, err)
	case !same:
		return nil, ErrOrderConflict
	}
	return c, nil
}

// latestConversation is the visitor's latest conversation within VisitorWindow.
func latestConversation(ctx context.Context, tx pgx.Tx, visitor uuid.UUID) (uuid.UUID, error) {
	var exists bool
	var conv *uuid.UUID
	err := tx.QueryRow(ctx, `SELECT true, (SELECT c.conversation_id FROM conversations c
			WHERE c.tenant_id = v.tenant_id AND c.visitor_id = v.visitor_id AND c.created_at > now() - make_interval(secs => $2)
			ORDER BY c.created_at DESC LIMIT 1)
		FROM visitors v WHERE v.tenant_id = sb_current_tenant() AND v.visitor_id = $1`, visitor, VisitorWindow.Seconds()).Scan(&exists, &conv)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return uuid.Nil, ErrNotFound
	case err != nil:
		return uuid.Nil, fmt.Errorf("finding the visitor's conversation: %w", err)
	case conv == nil:
		return uuid.Nil, ErrNoRecentConversation
	}
	return *conv, nil
}

func scanConversion(row pgx.Row) (*Conversion, error) {
	c := &Conversion{}
	err := row.Scan(&c.OrderID, &c.Amount, &c.Currency, &c.Conversation, &c.AgentName, &c.UnitName, &c.OccurredAt, &c.RecordedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return c, err
}
