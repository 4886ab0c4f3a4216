package supervision_test

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1/supervisionv1connect"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// TestEverySupervisionCallOutsideItsGrantIsRefused walks every rpc with callers lacking
// the permission it needs: refused, and nothing changed.
func TestEverySupervisionCallOutsideItsGrantIsRefused(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := context.Background()
	ann, _ := agentOnline(t, env, "acme", "ann")
	agentOnline(t, env, "acme", "cat")
	sales, _, _ := visitorStart(t, env, "sales")
	support, _, _ := visitorStart(t, env, "support")
	if _, err := ann.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: sales.Id})); err != nil {
		t.Fatal(err)
	}

	type call struct {
		name string
		do   func(c supervisionv1connect.SupervisionServiceClient) error
	}
	watch := func(conv string) func(c supervisionv1connect.SupervisionServiceClient) error {
		return func(c supervisionv1connect.SupervisionServiceClient) error {
			sctx, cancel := context.WithCancel(ctx)
			defer cancel()
			s, err := c.WatchConversation(sctx, connect.NewRequest(&supervisionv1.WatchConversationRequest{ConversationId: conv}))
			if err != nil {
				return err
			}
			if s.Receive() {
				return nil
			}
			return s.Err()
		}
	}
	watchMany := func(conv string) func(c supervisionv1connect.SupervisionServiceClient) error {
		return func(c supervisionv1connect.SupervisionServiceClient) error {
			sctx, cancel := context.WithCancel(ctx)
			defer cancel()
			s, err := c.WatchConversations(sctx, connect.NewRequest(&supervisionv1.WatchConversationsRequest{
				Conversations: []*supervisionv1.ConversationCursor{{ConversationId: conv}}}))
			if err != nil {
				return err
			}
			if s.Receive() {
				return nil
			}
			return s.Err()
		}
	}
	onConversation := func(conv string) []call {
		return []call{
			{"WatchConversation", watch(conv)},
			{"WatchConversations", watchMany(conv)},
			{"Whisper", func(c supervisionv1connect.SupervisionServiceClient) error {
				_, err := c.Whisper(ctx, connect.NewRequest(&supervisionv1.WhisperRequest{ConversationId: conv, ClientMessageId: "x", Text: "psst"}))
				return err
			}},
			{"TransferConversation", func(c supervisionv1connect.SupervisionServiceClient) error {
				_, err := c.TransferConversation(ctx, connect.NewRequest(&supervisionv1.TransferConversationRequest{ConversationId: conv,
					Target: &supervisionv1.TransferConversationRequest_BusinessUnit{BusinessUnit: "sales"}}))
				return err
			}},
			{"FinishConversation", func(c supervisionv1connect.SupervisionServiceClient) error {
				_, err := c.FinishConversation(ctx, connect.NewRequest(&supervisionv1.FinishConversationRequest{ConversationId: conv}))
				return err
			}},
			{"ExportTranscript", func(c supervisionv1connect.SupervisionServiceClient) error {
				s, err := c.ExportTranscript(ctx, connect.NewRequest(&supervisionv1.ExportTranscriptRequest{ConversationId: conv}))
				if err != nil {
					return err
				}
				if s.Receive() {
					return nil
				}
				return s.Err()
			}},
			{"SendTranscript", func(c supervisionv1connect.SupervisionServiceClient) error {
				_, err := c.SendTranscript(ctx, connect.NewRequest(&supervisionv1.SendTranscriptRequest{ConversationId: conv, To: "x@example.com"}))
				return err
			}},
			{"AddSupervisedChat", func(c supervisionv1connect.SupervisionServiceClient) error {
				_, err := c.AddSupervisedChat(ctx, connect.NewRequest(&supervisionv1.AddSupervisedChatRequest{ConversationId: conv}))
				return err
			}},
		}
	}
	onVisitor := func(visitor string) []call {
		return []call{
			{"GetVisitor", func(c supervisionv1connect.SupervisionServiceClient) error {
				_, err := c.GetVisitor(ctx, connect.NewRequest(&supervisionv1.GetVisitorRequest{VisitorId: visitor}))
				return err
			}},
			{"UpdateContact", func(c supervisionv1connect.SupervisionServiceClient) error {
				_, err := c.UpdateContact(ctx, connect.NewRequest(&supervisionv1.UpdateContactRequest{VisitorId: visitor,
					Profile: &supervisionv1.VisitorProfile{Name: "Mallory", Notes: "taken over"}}))
				return err
			}},
			{"DeleteContact", func(c supervisionv1connect.SupervisionServiceClient) error {
				_, err := c.DeleteContact(ctx, connect.NewRequest(&supervisionv1.DeleteContactRequest{VisitorId: visitor}))
				return err
			}},
		}
	}
	contacts := append(onVisitor(sales.VisitorId),
		call{"ListContacts", func(c supervisionv1connect.SupervisionServiceClient) error {
			_, err := c.ListContacts(ctx, connect.NewRequest(&supervisionv1.ListContactsRequest{}))
			return err
		}},
		call{"CreateContact", func(c supervisionv1connect.SupervisionServiceClient) error {
			_, err := c.CreateContact(ctx, connect.NewRequest(&supervisionv1.CreateContactRequest{
				Profile: &supervisionv1.VisitorProfile{Name: "Planted", Email: "planted@example.com"}}))
			return err
		}})
	listOpen := func(unit string) call {
		return call{"ListOpenChats " + unit, func(c supervisionv1connect.SupervisionServiceClient) error {
			_, err := c.ListOpenChats(ctx, connect.NewRequest(&supervisionv1.ListOpenChatsRequest{BusinessUnit: unit}))
			return err
		}}
	}
	getBoard := func(unit string) call {
		return call{"GetBoard " + unit, func(c supervisionv1connect.SupervisionServiceClient) error {
			_, err := c.GetBoard(ctx, connect.NewRequest(&supervisionv1.GetBoardRequest{BusinessUnit: unit}))
			return err
		}}
	}
	watchBoard := func(unit string) call {
		return call{"WatchBoard " + unit, func(c supervisionv1connect.SupervisionServiceClient) error {
			sctx, cancel := context.WithCancel(ctx)
			defer cancel()
			s, err := c.WatchBoard(sctx, connect.NewRequest(&supervisionv1.WatchBoardRequest{BusinessUnit: unit}))
			if err != nil {
				return err
			}
			if s.Receive() {
				return nil
			}
			return s.Err()
		}}
	}
	listAgents := func(unit string) call {
		return call{"ListAgents " + unit, func(c supervisionv1connect.SupervisionServiceClient) error {
			_, err := c.ListAgents(ctx, connect.NewRequest(&supervisionv1.ListAgentsRequest{BusinessUnit: unit}))
			return err
		}}
	}
	watchOpen := func(unit string) call {
		return call{"WatchOpenChats " + unit, func(c supervisionv1connect.SupervisionServiceClient) error {
			sctx, cancel := context.WithCancel(ctx)
			defer cancel()
			s, err := c.WatchOpenChats(sctx, connect.NewRequest(&supervisionv1.WatchOpenChatsRequest{BusinessUnit: unit}))
			if err != nil {
				return err
			}
			if s.Receive() {
				return nil
			}
			return s.Err()
		}}
	}
	listSignals := func(unit string) call {
		return call{"ListSignals " + unit, func(c supervisionv1connect.SupervisionServiceClient) error {
			_, err := c.ListSignals(ctx, connect.NewRequest(&supervisionv1.ListSignalsRequest{BusinessUnit: unit}))
			return err
		}}
	}
	agentTable := func(unit string) call {
		return call{"GetAgentTable " + unit, func(c supervisionv1connect.SupervisionServiceClient) error {
			_, err := c.GetAgentTable(ctx, connect.NewRequest(&supervisionv1.GetAgentTableRequest{BusinessUnit: unit}))
			return err
		}}
	}
	everything := append(onConversation(sales.Id), listOpen(""), listAgents(""), agentTable("sales"), watchOpen(""), listSignals(""), getBoard(""), watchBoard(""),
		call{"WatchAgents", func(c supervisionv1connect.SupervisionServiceClient) error {
			sctx, cancel := context.WithCancel(ctx)
			defer cancel()
			s, err := c.WatchAgents(sctx, connect.NewRequest(&supervisionv1.WatchAgentsRequest{}))
			if err != nil {
				return err
			}
			if s.Receive() {
				return nil
			}
			return s.Err()
		}},
		call{"ListSupervisedChats", func(c supervisionv1connect.SupervisionServiceClient) error {
			_, err := c.ListSupervisedChats(ctx, connect.NewRequest(&supervisionv1.ListSupervisedChatsRequest{}))
			return err
		}},
		call{"RemoveSupervisedChat", func(c supervisionv1connect.SupervisionServiceClient) error {
			_, err := c.RemoveSupervisedChat(ctx, connect.NewRequest(&supervisionv1.RemoveSupervisedChatRequest{ConversationId: sales.Id}))
			return err
		}},
		call{"SearchChats", func(c supervisionv1connect.SupervisionServiceClient) error {
			_, err := c.SearchChats(ctx, connect.NewRequest(&supervisionv1.SearchChatsRequest{}))
			return err
		}},
		call{"ExportChats", func(c supervisionv1connect.SupervisionServiceClient) error {
			s, err := c.ExportChats(ctx, connect.NewRequest(&supervisionv1.ExportChatsRequest{}))
			if err != nil {
				return err
			}
			if s.Receive() {
				return nil
			}
			return s.Err()
		}},
		call{"ExportOfflineMessages", func(c supervisionv1connect.SupervisionServiceClient) error {
			s, err := c.ExportOfflineMessages(ctx, connect.NewRequest(&supervisionv1.ExportOfflineMessagesRequest{}))
			if err != nil {
				return err
			}
			if s.Receive() {
				return nil
			}
			return s.Err()
		}},
		call{"ListOfflineMessages", func(c supervisionv1connect.SupervisionServiceClient) error {
			_, err := c.ListOfflineMessages(ctx, connect.NewRequest(&supervisionv1.ListOfflineMessagesRequest{}))
			return err
		}},
		call{"ListAuditLog", func(c supervisionv1connect.SupervisionServiceClient) error {
			_, err := c.ListAuditLog(ctx, connect.NewRequest(&supervisionv1.ListAuditLogRequest{}))
			return err
		}})
	everything = append(everything, contacts...)
	month := &supervisionv1.ReportRange{From: "2026-01-01", To: "2026-01-31"}
	reports := []call{
		{"GetDailyReport", func(c supervisionv1connect.SupervisionServiceClient) error {
			_, err := c.GetDailyReport(ctx, connect.NewRequest(&supervisionv1.GetDailyReportRequest{Range: month}))
			return err
		}},
		{"GetMonthlyReport", func(c supervisionv1connect.SupervisionServiceClient) error {
			_, err := c.GetMonthlyReport(ctx, connect.NewRequest(&supervisionv1.GetMonthlyReportRequest{Range: month}))
			return err
		}},
		{"GetVisitorStatistics", func(c supervisionv1connect.SupervisionServiceClient) error {
			_, err := c.GetVisitorStatistics(ctx, connect.NewRequest(&supervisionv1.GetVisitorStatisticsRequest{Range: month}))
			return err
		}},
		{"GetAgentStatistics", func(c supervisionv1connect.SupervisionServiceClient) error {
			_, err := c.GetAgentStatistics(ctx, connect.NewRequest(&supervisionv1.GetAgentStatisticsRequest{Range: month}))
			return err
		}},
		{"GetInteractionStatistics", func(c supervisionv1connect.SupervisionServiceClient) error {
			_, err := c.GetInteractionStatistics(ctx, connect.NewRequest(&supervisionv1.GetInteractionStatisticsRequest{Range: month}))
			return err
		}},
		{"ExportReport", func(c supervisionv1connect.SupervisionServiceClient) error {
			s, err := c.ExportReport(ctx, connect.NewRequest(&supervisionv1.ExportReportRequest{Kind: supervisionv1.ReportKind_REPORT_KIND_DAILY, Range: month}))
			if err != nil {
				return err
			}
			if s.Receive() {
				return nil
			}
			return s.Err()
		}},
	}
	everything = append(everything, reports...)
	covered := map[string]bool{}
	for _, c := range everything {
		covered[strings.Fields(c.name)[0]] = true
	}
	methods := supervisionv1.File_switchboard_supervision_v1_supervision_proto.Services().ByName("SupervisionService").Methods()
	for i := range methods.Len() {
		if name := string(methods.Get(i).Name()); !covered[name] {
			t.Errorf("rpc %s is not walked by this test", name)
		}
	}

	cases := []struct {
		caller string
		token  string
		calls  []call
		codes  []connect.Code
	}{
		{"an agent", env.Login(t, "acme", "ann"), everything, []connect.Code{connect.CodePermissionDenied}},
		{"a visitor", "", everything, []connect.Code{connect.CodeUnauthenticated}},
		{"a supervisor without Supervise on support", env.Login(t, "acme", "sue"), onConversation(support.Id), []connect.Code{connect.CodePermissionDenied}},
		{"a supervisor of support only, on sales", env.Login(t, "acme", "sue"), append(onConversation(sales.Id), listOpen("sales"), listAgents("sales"), agentTable("sales"), watchOpen("sales"), listSignals("sales"), getBoard("sales"), watchBoard("sales")), []connect.Code{connect.CodePermissionDenied}},
		{"a supervisor without SuperviseOpenChats on support", env.Login(t, "acme", "sam"), []call{listOpen("support"), watchOpen("support")}, []connect.Code{connect.CodePermissionDenied}},
		{"a supervisor without AllChats anywhere", env.Login(t, "acme", "sue"), append(append([]call{}, contacts...), reports...), []connect.Code{connect.CodePermissionDenied}},
		{"a supervisor of another tenant", env.Login(t, "globex", "gina"), append(append(onConversation(sales.Id), onConversation(support.Id)...), append(onVisitor(sales.VisitorId), getBoard("support"), watchBoard("support"))...), []connect.Code{connect.CodeNotFound, connect.CodePermissionDenied}},
	}
	before := snapshot(t, env)
	for _, c := range cases {
		client := env.Supervision(c.token)
		for _, call := range c.calls {
			t.Run(c.caller+" calling "+call.name+" is refused", func(t *testing.T) {
				err := call.do(client)
				for _, want := range c.codes {
					if testenv.Code(err) == want {
						return
					}
				}
				t.Fatalf("got %v, want one of %v", err, c.codes)
			})
		}
	}
	if after := snapshot(t, env); after != before {
		t.Fatalf("refused calls changed rows:\n%s\n%s", before, after)
	}

	t.Run("within their grants the same supervisors succeed", func(t *testing.T) {
		sue := env.Supervision(env.Login(t, "acme", "sue"))
		res, err := sue.ListOpenChats(ctx, connect.NewRequest(&supervisionv1.ListOpenChatsRequest{BusinessUnit: "support"}))
		if err != nil || len(res.Msg.Chats) != 1 || res.Msg.Chats[0].Conversation.Id != support.Id {
			t.Fatalf("sue's support chats: %v %v", res, err)
		}
		sam := env.Supervision(env.Login(t, "acme", "sam"))
		if err := watch(support.Id)(sam); err != nil {
			t.Fatalf("sam watching a support chat: %v", err)
		}
		admin := env.Supervision(env.Login(t, "acme", "admin"))
		all, err := admin.ListOpenChats(ctx, connect.NewRequest(&supervisionv1.ListOpenChatsRequest{}))
		if err != nil || len(all.Msg.Chats) != 2 {
			t.Fatalf("the tenant admin sees %v, %v; want both open chats", all, err)
		}
	})
}

func snapshot(t *testing.T, env *testenv.Env) string {
	t.Helper()
	var s string
	err := env.Owner.QueryRow(context.Background(), `SELECT concat_ws('|', (SELECT count(*) FROM events),
		(SELECT string_agg(state || coalesce(agent_id::text, '') || unit_id || last_seq, ';' ORDER BY conversation_id) FROM conversations),
		(SELECT string_agg(name || open_count, ';' ORDER BY name) FROM agents), (SELECT count(*) FROM audit_log),
		(SELECT count(*) FROM supervised_chats),
		(SELECT string_agg(concat_ws(',', name, email, phone, notes), ';' ORDER BY visitor_id) FROM visitors))`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
