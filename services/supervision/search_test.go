package supervision_test

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

func TestAllChatsSearchAndExport(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := context.Background()
	agentOnline(t, env, "acme", "ann")
	agentOnline(t, env, "acme", "cat")
	say := func(unit, text string, csat int32, thumb chatv1.Thumb, closeIt bool) string {
		conv, visitor, _ := visitorStart(t, env, unit)
		if _, err := visitor.SendMessage(ctx, connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: conv.Id, ClientMessageId: "t", Text: text})); err != nil {
			t.Fatal(err)
		}
		if csat > 0 {
			if _, err := visitor.RateConversation(ctx, connect.NewRequest(&chatv1.RateConversationRequest{ConversationId: conv.Id, Csat: csat, Thumb: thumb})); err != nil {
				t.Fatal(err)
			}
		}
		if closeIt {
			if _, err := visitor.CloseConversation(ctx, connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: conv.Id})); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(5 * time.Millisecond) // distinct start times, for the order
		return conv.Id
	}
	angry := say("sales", "my invoice is terrible, I want a refund", 1, chatv1.Thumb_THUMB_DOWN, true)
	happy := say("sales", "thanks, great help with the invoice", 5, chatv1.Thumb_THUMB_UP, false)
	parcel := say("support", "where is my parcel", 0, 0, false)

	sam := env.Supervision(env.Login(t, "acme", "sam"))
	search := func(c interface {
		SearchChats(context.Context, *connect.Request[supervisionv1.SearchChatsRequest]) (*connect.Response[supervisionv1.SearchChatsResponse], error)
	}, f *supervisionv1.ChatFilter) []string {
		t.Helper()
		res, err := c.SearchChats(ctx, connect.NewRequest(&supervisionv1.SearchChatsRequest{Filter: f}))
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range res.Msg.Chats {
			ids = append(ids, c.Conversation.Id)
		}
		return ids
	}
	// The index follows a few seconds behind; the admin sees the last conversation once
	// every one is indexed.
	admin := env.Supervision(env.Login(t, "acme", "admin"))
	deadline := time.Now().Add(15 * time.Second)
	for len(search(sam, &supervisionv1.ChatFilter{Text: "refund"})) == 0 || len(search(admin, &supervisionv1.ChatFilter{Text: "parcel"})) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the search index did not catch up within 15s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	cases := []struct {
		name   string
		filter *supervisionv1.ChatFilter
		want   []string
	}{
		{"everything sam may see, newest first", &supervisionv1.ChatFilter{}, []string{happy, angry}},
		{"full text", &supervisionv1.ChatFilter{Text: "invoice"}, []string{happy, angry}},
		{"full text, two words", &supervisionv1.ChatFilter{Text: "terrible refund"}, []string{angry}},
		{"negative sentiment", &supervisionv1.ChatFilter{Sentiment: supervisionv1.Sentiment_SENTIMENT_NEGATIVE}, []string{angry}},
		{"positive sentiment", &supervisionv1.ChatFilter{Sentiment: supervisionv1.Sentiment_SENTIMENT_POSITIVE}, []string{happy}},
		{"CSAT of 4 or more", &supervisionv1.ChatFilter{CsatMin: 4}, []string{happy}},
		{"thumbs down", &supervisionv1.ChatFilter{Thumb: chatv1.Thumb_THUMB_DOWN}, []string{angry}},
		{"closed", &supervisionv1.ChatFilter{State: supervisionv1.ChatStateFilter_CHAT_STATE_FILTER_CLOSED}, []string{angry}},
		{"by agent", &supervisionv1.ChatFilter{Agent: "ann"}, []string{happy, angry}},
		{"a date range in the future", &supervisionv1.ChatFilter{From: timestampIn(time.Hour)}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := search(sam, c.filter); strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}

	t.Run("pages follow each other", func(t *testing.T) {
		first, err := sam.SearchChats(ctx, connect.NewRequest(&supervisionv1.SearchChatsRequest{PageSize: 1}))
		if err != nil || len(first.Msg.Chats) != 1 || first.Msg.Chats[0].Conversation.Id != happy || first.Msg.NextPageToken == "" {
			t.Fatalf("first page: %v %v", first, err)
		}
		if first.Msg.Chats[0].Csat != 5 || first.Msg.Chats[0].Sentiment != supervisionv1.Sentiment_SENTIMENT_POSITIVE || first.Msg.Chats[0].Messages != 2 {
			t.Fatalf("summary: %v", first.Msg.Chats[0])
		}
		second, err := sam.SearchChats(ctx, connect.NewRequest(&supervisionv1.SearchChatsRequest{PageSize: 1, PageToken: first.Msg.NextPageToken}))
		if err != nil || len(second.Msg.Chats) != 1 || second.Msg.Chats[0].Conversation.Id != angry || second.Msg.NextPageToken != "" {
			t.Fatalf("second page: %v %v", second, err)
		}
	})

	t.Run("export streams one row per conversation", func(t *testing.T) {
		stream, err := sam.ExportChats(ctx, connect.NewRequest(&supervisionv1.ExportChatsRequest{Filter: &supervisionv1.ChatFilter{}}))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for stream.Receive() {
			b.Write(stream.Msg().Csv)
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		records, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
		if err != nil || len(records) != 3 || records[0][0] != "conversation_id" || records[1][0] != happy || records[2][8] != "1" || records[2][10] != "negative" {
			t.Fatalf("export: %v %v\n%s", records, err, b.String())
		}
	})

	t.Run("the units without AllChats stay out, for every caller", func(t *testing.T) {
		if got := search(admin, &supervisionv1.ChatFilter{Text: "parcel"}); len(got) != 1 || got[0] != parcel {
			t.Fatalf("the admin searching 'parcel': %v", got)
		}
		if got := search(sam, &supervisionv1.ChatFilter{Text: "parcel"}); len(got) != 0 {
			t.Fatalf("sam (no AllChats on support) found %v", got)
		}
		sue := env.Supervision(env.Login(t, "acme", "sue"))
		if _, err := sue.SearchChats(ctx, connect.NewRequest(&supervisionv1.SearchChatsRequest{})); testenv.Code(err) != connect.CodePermissionDenied {
			t.Fatalf("sue searching: %v", err)
		}
		gina := env.Supervision(env.Login(t, "globex", "gina"))
		if got := search(gina, &supervisionv1.ChatFilter{Text: "invoice"}); len(got) != 0 {
			t.Fatalf("another tenant's supervisor found %v", got)
		}
	})

	t.Run("bad filters are refused", func(t *testing.T) {
		for _, req := range []*supervisionv1.SearchChatsRequest{
			{Filter: &supervisionv1.ChatFilter{CsatMin: 6}},
			{Filter: &supervisionv1.ChatFilter{CsatMin: 4, CsatMax: 2}},
			{Filter: &supervisionv1.ChatFilter{From: timestampIn(time.Hour), To: timestampIn(0)}},
			{PageToken: "not-a-token"},
			{PageSize: 201},
		} {
			if _, err := sam.SearchChats(ctx, connect.NewRequest(req)); testenv.Code(err) != connect.CodeInvalidArgument {
				t.Fatalf("%v: %v", req, err)
			}
		}
	})
}

func timestampIn(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(time.Now().Add(d)) }
