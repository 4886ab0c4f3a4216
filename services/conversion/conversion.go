// Package conversion is the ConversionService: a tenant's backend reports the sales its
// chats led to, with one of the tenant's API keys, so that supervisors see turnover,
// transactions and conversion rate per agent. A sale is attributed to a conversation, its
// agent and its unit, and recorded once per order id however often it is sent.
package conversion

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	conversionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/conversion/v1/conversionv1connect"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/store"
)

// Counter counts newly recorded sales (metrics.Conversions).
type Counter interface {
	Recorded(tenant, unit, currency, amount string)
}

// Server is the ConversionService.
type Server struct {
	db      *store.DB
	counter Counter
}

var _ conversionv1connect.ConversionServiceHandler = (*Server)(nil)

// New returns the ConversionService, counting new sales with counter.
func New(db *store.DB, counter Counter) *Server { return &Server{db: db, counter: counter} }

// Limits of a sale.
const (
	maxOrderID = 200
	// maxFuture tolerates clocks a little ahead of ours.
	maxFuture = 5 * time.Minute
)

var (
	// amountPattern is a positive decimal with a dot: up to 18 digits and 4 decimals.
	amountPattern   = regexp.MustCompile(`^[0-9]{1,18}(\.[0-9]{1,4})?$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// sale is a checked request.
type sale struct {
	store.NewConversion
}

func check(m *conversionv1.RecordConversionRequest, now time.Time) (*sale, error) {
	s := &sale{store.NewConversion{OrderID: m.OrderId, Amount: m.Amount, Currency: m.Currency}}
	switch {
	case m.OrderId == "":
		return nil, rpcerr.Invalid("order_id", "required")
	case len(m.OrderId) > maxOrderID:
		return nil, rpcerr.Invalid("order_id", "%d bytes is more than %d", len(m.OrderId), maxOrderID)
	case !utf8.ValidString(m.OrderId) || strings.ContainsFunc(m.OrderId, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return nil, rpcerr.Invalid("order_id", "must be printable UTF-8")
	case m.Amount == "":
		return nil, rpcerr.Invalid("amount", "required")
	case !amountPattern.MatchString(m.Amount):
		return nil, rpcerr.Invalid("amount", "%s is not a decimal with a dot and at most 4 decimals, like \"129.90\"", rpcerr.Quote(m.Amount))
	case strings.Trim(m.Amount, "0.") == "":
		return nil, rpcerr.Invalid("amount", "must be more than zero")
	case m.Currency == "":
		return nil, rpcerr.Invalid("currency", "required")
	case !currencyPattern.MatchString(m.Currency):
		return nil, rpcerr.Invalid("currency", "%s is not an ISO 4217 code in capitals, like \"EUR\"", rpcerr.Quote(m.Currency))
	case (m.ConversationId == "") == (m.VisitorId == ""):
		return nil, rpcerr.Invalid("conversation_id", "exactly one of conversation_id and visitor_id is required")
	}
	var err error
	if m.ConversationId != "" {
		if s.Conversation, err = uuid.Parse(m.ConversationId); err != nil {
			return nil, rpcerr.Invalid("conversation_id", "%s is not a UUID", rpcerr.Quote(m.ConversationId))
		}
	} else if s.Visitor, err = uuid.Parse(m.VisitorId); err != nil {
		return nil, rpcerr.Invalid("visitor_id", "%s is not a UUID", rpcerr.Quote(m.VisitorId))
	}
	if m.OccurredAt != nil {
		if err := m.OccurredAt.CheckValid(); err != nil {
			return nil, rpcerr.Invalid("occurred_at", "not a valid time")
		}
		s.OccurredAt = m.OccurredAt.AsTime()
		if s.OccurredAt.After(now.Add(maxFuture)) {
			return nil, rpcerr.Invalid("occurred_at", "%s is in the future", s.OccurredAt.Format(time.RFC3339))
		}
	}
	return s, nil
}

// RecordConversion records a sale, once per order id.
func (s *Server) RecordConversion(ctx context.Context, req *connect.Request[conversionv1.RecordConversionRequest]) (*connect.Response[conversionv1.RecordConversionResponse], error) {
	p := auth.FromContext(ctx)
	if p == nil || p.APIKey == "" {
		return nil, rpcerr.Errorf(connect.CodePermissionDenied, "the ConversionService takes the tenant's API keys only")
	}
	sale, err := check(req.Msg, time.Now())
	if err != nil {
		return nil, err
	}
	var c *store.Conversion
	var duplicate bool
	var tenant string
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		var err error
		if c, duplicate, err = store.RecordConversion(ctx, tx, p.Tenant, sale.NewConversion); err != nil {
			return err
		}
		tenant, err = store.TenantName(ctx, tx)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound) && sale.Conversation != uuid.Nil:
		return nil, rpcerr.Errorf(connect.CodeNotFound, "conversation_id: no conversation %s in this tenant", sale.Conversation)
	case errors.Is(err, store.ErrNotFound):
		return nil, rpcerr.Errorf(connect.CodeNotFound, "visitor_id: no visitor %s in this tenant", sale.Visitor)
	case errors.Is(err, store.ErrNoRecentConversation):
		return nil, rpcerr.Errorf(connect.CodeFailedPrecondition, "visitor_id: the visitor had no conversation in the last 30 days; name the conversation instead")
	case errors.Is(err, store.ErrOrderConflict):
		return nil, rpcerr.Errorf(connect.CodeAlreadyExists, "order_id: %s is already recorded with another amount or currency", rpcerr.Quote(sale.OrderID))
	case err != nil:
		return nil, rpcerr.Internal(ctx, err)
	}
	// Counted after the commit, once: a resend is a duplicate and counts nothing.
	if !duplicate {
		s.counter.Recorded(tenant, c.UnitName, c.Currency, c.Amount)
	}
	return connect.NewResponse(&conversionv1.RecordConversionResponse{Conversion: &conversionv1.Conversion{
		OrderId: c.OrderID, Amount: c.Amount, Currency: c.Currency, ConversationId: c.Conversation.String(),
		Agent: c.AgentName, BusinessUnit: c.UnitName,
		OccurredAt: timestamppb.New(c.OccurredAt), RecordedAt: timestamppb.New(c.RecordedAt),
	}, Duplicate: duplicate}), nil
}
