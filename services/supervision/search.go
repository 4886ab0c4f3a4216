package supervision

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/auth"
	"github.com/switchboard-chat/switchboard/services/chat"
	"github.com/switchboard-chat/switchboard/services/export"
	"github.com/switchboard-chat/switchboard/services/rpcerr"
	"github.com/switchboard-chat/switchboard/services/sentiment"
	"github.com/switchboard-chat/switchboard/services/store"
)

// exportPage is how many conversations an export reads at a time.
const exportPage = 1000

// chatFilter checks an API filter and turns it into the store's.
func chatFilter(f *supervisionv1.ChatFilter) (store.ChatFilter, error) {
	var out store.ChatFilter
	if f == nil {
		return out, nil
	}
	out.Agent, out.Text = f.Agent, f.Text
	if err := chat.CheckNote("filter.text", f.Text); err != nil {
		return out, err
	}
	if f.From != nil {
		out.From = f.From.AsTime()
	}
	if f.To != nil {
		out.To = f.To.AsTime()
	}
	if !out.From.IsZero() && !out.To.IsZero() && !out.From.Before(out.To) {
		return out, rpcerr.Invalid("filter.to", "must be after filter.from")
	}
	for field, v := range map[string]int32{"filter.csat_min": f.CsatMin, "filter.csat_max": f.CsatMax} {
		if v < 0 || v > 5 {
			return out, rpcerr.Invalid(field, "%d is outside 1–5 (0 for none)", v)
		}
	}
	if f.CsatMin > 0 && f.CsatMax > 0 && f.CsatMin > f.CsatMax {
		return out, rpcerr.Invalid("filter.csat_min", "%d is above filter.csat_max %d", f.CsatMin, f.CsatMax)
	}
	out.CSATMin, out.CSATMax = f.CsatMin, f.CsatMax
	switch f.Thumb {
	case chatv1.Thumb_THUMB_UNSPECIFIED:
	case chatv1.Thumb_THUMB_UP:
		out.Thumb = "up"
	case chatv1.Thumb_THUMB_DOWN:
		out.Thumb = "down"
	default:
		return out, rpcerr.Invalid("filter.thumb", "unknown value %d", f.Thumb)
	}
	switch f.Sentiment {
	case supervisionv1.Sentiment_SENTIMENT_UNSPECIFIED:
	case supervisionv1.Sentiment_SENTIMENT_NEGATIVE:
		out.Sentiment = sentiment.Negative
	case supervisionv1.Sentiment_SENTIMENT_NEUTRAL:
		out.Sentiment = sentiment.Neutral
	case supervisionv1.Sentiment_SENTIMENT_POSITIVE:
		out.Sentiment = sentiment.Positive
	default:
		return out, rpcerr.Invalid("filter.sentiment", "unknown value %d", f.Sentiment)
	}
	switch f.State {
	case supervisionv1.ChatStateFilter_CHAT_STATE_FILTER_UNSPECIFIED:
	case supervisionv1.ChatStateFilter_CHAT_STATE_FILTER_OPEN:
		out.State = "open"
	case supervisionv1.ChatStateFilter_CHAT_STATE_FILTER_CLOSED:
		out.State = "closed"
	default:
		return out, rpcerr.Invalid("filter.state", "unknown value %d", f.State)
	}
	return out, nil
}

var sentimentToProto = map[string]supervisionv1.Sentiment{
	sentiment.Negative: supervisionv1.Sentiment_SENTIMENT_NEGATIVE,
	sentiment.Neutral:  supervisionv1.Sentiment_SENTIMENT_NEUTRAL,
	sentiment.Positive: supervisionv1.Sentiment_SENTIMENT_POSITIVE,
}

func summary(r *store.ChatRow) *supervisionv1.ChatSummary {
	s := &supervisionv1.ChatSummary{Conversation: chat.ConversationToProto(&r.Conversation), Csat: r.CSAT, Messages: int32(r.Messages)}
	switch r.Thumb {
	case "up":
		s.Thumb = chatv1.Thumb_THUMB_UP
	case "down":
		s.Thumb = chatv1.Thumb_THUMB_DOWN
	}
	if r.HasSentiment {
		s.SentimentScore = r.Sentiment
		s.Sentiment = sentimentToProto[sentiment.Label(r.Sentiment)]
	}
	return s
}

func encodeCursor(c store.Cursor) string {
	b := make([]byte, 24)
	binary.BigEndian.PutUint64(b, uint64(c.CreatedAt.UnixNano()))
	copy(b[8:], c.ID[:])
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*store.Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 24 {
		return nil, rpcerr.Invalid("page_token", "not a token this service gave")
	}
	id, _ := uuid.FromBytes(b[8:])
	return &store.Cursor{CreatedAt: time.Unix(0, int64(binary.BigEndian.Uint64(b))), ID: id}, nil
}

// searchScope resolves the units of a filter where the caller holds AllChats.
func searchScope(ctx context.Context, tx pgx.Tx, p *auth.Principal, f *supervisionv1.ChatFilter, sf *store.ChatFilter) error {
	unit := ""
	if f != nil {
		unit = f.BusinessUnit
	}
	units, err := unitsWith(ctx, tx, p, store.PermAllChats, unit)
	sf.Units = units
	return err
}

// SearchChats finds conversations, newest first, a page at a time.
func (s *Server) SearchChats(ctx context.Context, req *connect.Request[supervisionv1.SearchChatsRequest]) (*connect.Response[supervisionv1.SearchChatsResponse], error) {
	p, err := supervisor(ctx)
	if err != nil {
		return nil, err
	}
	f, err := chatFilter(req.Msg.Filter)
	if err != nil {
		return nil, err
	}
	size := int(req.Msg.PageSize)
	if size == 0 {
		size = 50
	}
	if size < 1 || size > 200 {
		return nil, rpcerr.Invalid("page_size", "%d is outside 1–200", req.Msg.PageSize)
	}
	var after *store.Cursor
	if req.Msg.PageToken != "" {
		if after, err = decodeCursor(req.Msg.PageToken); err != nil {
			return nil, err
		}
	}
	var rows []*store.ChatRow
	err = s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		if err := searchScope(ctx, tx, p, req.Msg.Filter, &f); err != nil {
			return err
		}
		rows, err = store.SearchChats(ctx, tx, f, after, size+1)
		return err
	})
	if err != nil {
		return nil, rpcerr.Internal(ctx, err)
	}
	out := &supervisionv1.SearchChatsResponse{}
	for i, r := range rows {
		if i == size {
			last := rows[size-1]
			out.NextPageToken = encodeCursor(store.Cursor{CreatedAt: last.CreatedAt, ID: last.ID})
			break
		}
		out.Chats = append(out.Chats, summary(r))
	}
	return connect.NewResponse(out), nil
}

// ExportChats streams every matching conversation as CSV, a page of rows at a time.
func (s *Server) ExportChats(ctx context.Context, req *connect.Request[supervisionv1.ExportChatsRequest], stream *connect.ServerStream[supervisionv1.ExportChatsResponse]) error {
	p, err := supervisor(ctx)
	if err != nil {
		return err
	}
	f, err := chatFilter(req.Msg.Filter)
	if err != nil {
		return err
	}
	if err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
		return searchScope(ctx, tx, p, req.Msg.Filter, &f)
	}); err != nil {
		return rpcerr.Internal(ctx, err)
	}
	var rowsOut int64
	w := export.NewWriter(func(piece []byte) error {
		return stream.Send(&supervisionv1.ExportChatsResponse{Csv: piece, Rows: rowsOut})
	})
	if err := w.Row("conversation_id", "business_unit", "agent", "visitor", "state", "started_at", "closed_at",
		"messages", "csat", "thumb", "sentiment", "sentiment_score"); err != nil {
		return err
	}
	var after *store.Cursor
	for {
		var rows []*store.ChatRow
		if err := s.db.InTenant(ctx, p.Tenant, func(tx pgx.Tx) error {
			var err error
			rows, err = store.SearchChats(ctx, tx, f, after, exportPage)
			return err
		}); err != nil {
			return rpcerr.Internal(ctx, err)
		}
		for _, r := range rows {

			closed := ""
			if r.ClosedAt != nil {
				closed = r.ClosedAt.UTC().Format(time.RFC3339)
			}
			label, score := "", ""
			if r.HasSentiment {
				label, score = sentiment.Label(r.Sentiment), strconv.FormatFloat(r.Sentiment, 'f', 2, 64)
			}
			csat := ""
			if r.CSAT > 0 {
				csat = strconv.Itoa(int(r.CSAT))
			}
			rowsOut++
			if err := w.Row(r.ID.String(), r.UnitName, r.AgentName, r.VisitorName, r.State, r.CreatedAt.UTC().Format(time.RFC3339),
				closed, strconv.Itoa(r.Messages), csat, r.Thumb, label, score); err != nil {
				return err
			}

		}
		if len(rows) < exportPage {
			break
		}
		last := rows[len(rows)-1]
		after = &store.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if err := w.Close(); err != nil {
		return err
	}
	s.audit(ctx, p, store.AuditExport, uuid.Nil, fmt.Sprintf("chats export, %d rows", rowsOut))
	return nil
}
