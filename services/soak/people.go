package soak

import (
	"cmp"
	"context"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	authv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/auth/v1/authv1connect"
	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1/supervisionv1connect"
	"github.com/switchboard-chat/switchboard/services/demo"
)

// Pace of the soak's own people, at a person's pace (divided by Options.Speed). The
// visitors and agents are the demo's (package demo), with these shifts.
const (
	// Agents work shifts of about agentShift and take breaks of about agentBreak, so
	// that they sign in and out all the run long.
	agentShift = 20 * time.Minute
	agentBreak = 4 * time.Minute
	// visitorsPerAgent caps the visitors chatting at once.
	visitorsPerAgent = 3

	// A supervisor stays signed in for a session, then takes a break.
	sessionMin, sessionMax                 = 4 * time.Minute, 12 * time.Minute
	supervisorBreakMin, supervisorBreakMax = 30 * time.Second, 2 * time.Minute
	// Between two things a supervisor does, it reads the screen.
	thinkMin, thinkMax = 4 * time.Second, 15 * time.Second
	// It watches one chat, or several on one stream, for a while, and whispers now and then.
	watchMin, watchMax = 30 * time.Second, 2 * time.Minute
	maxWatches         = 3
	whisperChance      = 0.3

	// Someone browses the site without chatting every passerByMin–Max, for a few pages.
	passerByMin, passerByMax = 2 * time.Second, 6 * time.Second
	pageMin, pageMax         = 5 * time.Second, 30 * time.Second

	// The tenant admin looks at the reports and the audit log now and then.
	adminMin, adminMax = 3 * time.Minute, 8 * time.Minute

	// callTimeout bounds one unary call, as the demo's people do.
	callTimeout = 15 * time.Second
)

// load is the people of a run.
type load struct {
	o      Options
	base   string
	tenant *tenant
	calls  *calls
}

// run lets every person act until ctx ends, and returns once all have stopped.
func (l *load) run(ctx context.Context) {
	var people sync.WaitGroup
	people.Go(func() { demo.Run(ctx, demoOptions(l.o, l.base, l.tenant, l.calls)) })
	for i, acct := range l.tenant.supervisors {
		s := &supervisor{l: l, acct: acct, rng: l.rand(uint64(i) + 1), open: map[string]*chatv1.Conversation{}}
		people.Go(func() { s.run(ctx) })
	}
	people.Go(func() { l.passersBy(ctx, l.rand(100)) })
	people.Go(func() { l.admin(ctx, l.rand(101)) })
	people.Wait()
}

// rand is a source of choices for one person, repeatable for a seed.
func (l *load) rand(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(l.o.Seed, 1<<32+stream))
}

// between is a random duration in [lo, hi] at the run's pace.
func (l *load) between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	d := lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
	return time.Duration(float64(d) / l.o.Speed)
}

// pause waits a random time in [lo, hi] at the run's pace; false means ctx ended.
func (l *load) pause(ctx context.Context, rng *rand.Rand, lo, hi time.Duration) bool {
	return sleep(ctx, l.between(rng, lo, hi))
}

// api is one person's clients on connections of their own, in the JSON codec a
// browser's connect-web speaks, over HTTP/2 without TLS or HTTP/1.1.
type api struct {
	chat        chatv1connect.ChatServiceClient
	auth        authv1connect.AuthServiceClient
	supervision supervisionv1connect.SupervisionServiceClient
	close       func()
}

func (l *load) dial(http2 bool) api {
	protocols := new(http.Protocols)
	if http2 {
		protocols.SetUnencryptedHTTP2(true)
	} else {
		protocols.SetHTTP1(true)
	}
	transport := &http.Transport{Protocols: protocols}
	client := &http.Client{Transport: transport}
	opts := append(l.calls.clientOptions(), connect.WithProtoJSON())
	return api{
		chat:        chatv1connect.NewChatServiceClient(client, l.base, opts...),
		auth:        authv1connect.NewAuthServiceClient(client, l.base, opts...),
		supervision: supervisionv1connect.NewSupervisionServiceClient(client, l.base, opts...),
		close:       transport.CloseIdleConnections,
	}
}

// unary makes one call with the bearer token (none when empty), bounded by callTimeout.
func unary[Req, Res any](ctx context.Context, call func(context.Context, *connect.Request[Req]) (*connect.Response[Res], error), token string, msg *Req) (*Res, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	req := connect.NewRequest(msg)
	if token != "" {
		req.Header().Set("Authorization", "Bearer "+token)
	}
	res, err := call(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.Msg, nil
}

// follow opens a server stream with the bearer token and hands each message to each
// until the stream or ctx ends.
func follow[Req, Res any](ctx context.Context, call func(context.Context, *connect.Request[Req]) (*connect.ServerStreamForClient[Res], error), token string, msg *Req, each func(*Res)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req := connect.NewRequest(msg)
	req.Header().Set("Authorization", "Bearer "+token)
	stream, err := call(ctx, req)
	if err != nil {
		return err
	}
	defer func() {
		// Cancel first: closing a stream that is still open would wait for its end.
		cancel()
		stream.Close()
	}()
	for stream.Receive() {
		each(stream.Msg())
	}
	return stream.Err()
}

// within is ctx ended after d, as a person ends something: Canceled, never a deadline
// (a deadline would read as the server too slow).
func within(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	t := time.AfterFunc(d, cancel)
	return ctx, func() {
		t.Stop()
		cancel()
	}
}

func login(ctx context.Context, a api, username string) (string, error) {
	res, err := unary(ctx, a.auth.Login, "", &authv1.LoginRequest{Tenant: tenantName, Username: username, Password: password})
	if err != nil {
		return "", err
	}
	return res.Token, nil
}

func logout(ctx context.Context, a api, token string) {
	_, _ = unary(ctx, a.auth.Logout, token, &authv1.LogoutRequest{})
}

// supervisor is a supervisor of the soak's tenant: it signs in for a session with the
// board and (with SuperviseOpenChats) the open chats streaming, does what its
// permissions allow now and then, signs out and comes back after a break.
type supervisor struct {
	l    *load
	acct supervisorAccount
	rng  *rand.Rand
	// open are the open chats WatchOpenChats shows, by id.
	mu   sync.Mutex
	open map[string]*chatv1.Conversation
	// watches counts the chats being watched on streams now.
	watches atomic.Int32
}

func (s *supervisor) run(ctx context.Context) {
	for {
		s.session(ctx)
		if !s.l.pause(ctx, s.rng, supervisorBreakMin, supervisorBreakMax) {
			return
		}
	}
}

func (s *supervisor) session(ctx context.Context) {
	a := s.l.dial(true)
	defer a.close()
	token, err := login(ctx, a, s.acct.username)
	if err != nil {
		return
	}
	sctx, end := within(ctx, s.l.between(s.rng, sessionMin, sessionMax))
	var streams sync.WaitGroup
	streams.Go(func() {
		_ = follow(sctx, a.supervision.WatchBoard, token, &supervisionv1.WatchBoardRequest{RangeSeconds: 3600}, func(*supervisionv1.WatchBoardResponse) {})
	})
	if s.acct.may(permOpenChats) {
		streams.Go(func() { s.watchOpenChats(sctx, a, token) })
	}
	for s.l.pause(sctx, s.rng, thinkMin, thinkMax) {
		s.act(sctx, a, token, &streams)
	}
	end()
	streams.Wait()
	s.mu.Lock()
	clear(s.open)
	s.mu.Unlock()
	if ctx.Err() == nil {
		logout(ctx, a, token)
	}
}

// watchOpenChats keeps s.open current.
func (s *supervisor) watchOpenChats(ctx context.Context, a api, token string) {
	_ = follow(ctx, a.supervision.WatchOpenChats, token, &supervisionv1.WatchOpenChatsRequest{}, func(r *supervisionv1.WatchOpenChatsResponse) {
		c := r.GetChat().GetConversation()
		if c == nil {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if r.Removed {
			delete(s.open, c.Id)
		} else {
			s.open[c.Id] = c
		}
	})
}

// someOpen picks up to n open chats at random.
func (s *supervisor) someOpen(n int) []*chatv1.Conversation {
	s.mu.Lock()
	all := make([]*chatv1.Conversation, 0, len(s.open))
	for _, c := range s.open {
		all = append(all, c)
	}
	s.mu.Unlock()
	// Sorted first, so that the choice depends on the seed only, not on the map's order.
	slices.SortFunc(all, func(a, b *chatv1.Conversation) int { return cmp.Compare(a.Id, b.Id) })
	s.rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return all[:min(n, len(all))]
}

// act does one thing the supervisor's permissions allow, picked at random: most of the
// time a look at the agents or a chat, now and then a search, rarely an export.
func (s *supervisor) act(ctx context.Context, a api, token string, streams *sync.WaitGroup) {
	type action struct {
		weight int
		may    bool
		do     func()
	}
	unit := s.acct.profile.units[s.rng.IntN(len(s.acct.profile.units))]
	actions := []action{
		{20, s.acct.may(permSupervise) && s.watches.Load() < maxWatches, func() { s.watchOne(ctx, a, token, streams) }},
		{8, s.acct.may(permSupervise) && s.watches.Load() < maxWatches, func() { s.watchSeveral(ctx, a, token, streams) }},
		{15, true, func() {
			_, _ = unary(ctx, a.supervision.GetAgentTable, token, &supervisionv1.GetAgentTableRequest{BusinessUnit: unit})
		}},
		{10, true, func() { _, _ = unary(ctx, a.supervision.ListAgents, token, &supervisionv1.ListAgentsRequest{}) }},
		{5, s.acct.may(permOpenChats), func() {
			_, _ = unary(ctx, a.supervision.ListOpenChats, token, &supervisionv1.ListOpenChatsRequest{BusinessUnit: unit})
		}},
		{5, true, func() {
			_, _ = unary(ctx, a.supervision.GetBoard, token, &supervisionv1.GetBoardRequest{RangeSeconds: 900})
		}},
		{5, true, func() {
			_, _ = unary(ctx, a.supervision.ListSignals, token, &supervisionv1.ListSignalsRequest{ActiveOnly: s.rng.IntN(2) == 0})
		}},
		{15, s.acct.may(permAllChats), func() { s.search(ctx, a, token) }},
		{2, s.acct.may(permAllChats), func() { s.export(ctx, a, token) }},
		{5, s.acct.may(permSupervise), func() { s.supervisedChats(ctx, a, token) }},
		{3, s.acct.may(permAllChats), func() { s.visitor(ctx, a, token) }},
		{2, true, func() { _, _ = unary(ctx, a.auth.WhoAmI, token, &authv1.WhoAmIRequest{}) }},
	}
	total := 0
	for _, act := range actions {
		if act.may {
			total += act.weight
		}
	}
	n := s.rng.IntN(total)
	for _, act := range actions {
		if !act.may {
			continue
		}
		if n < act.weight {
			act.do()
			return
		}
		n -= act.weight
	}
}

// watchOne watches an open chat live for a while, from its start, and may whisper.
func (s *supervisor) watchOne(ctx context.Context, a api, token string, streams *sync.WaitGroup) {
	chats := s.someOpen(1)
	if len(chats) == 0 {
		return
	}
	id := chats[0].Id
	d := s.l.between(s.rng, watchMin, watchMax)
	whisper := s.rng.Float64() < whisperChance
	whisperAfter := d / 3
	s.watches.Add(1)
	streams.Go(func() {
		defer s.watches.Add(-1)
		wctx, stop := within(ctx, d)
		defer stop()
		if whisper {
			t := time.AfterFunc(whisperAfter, func() {
				_, _ = unary(wctx, a.supervision.Whisper, token, &supervisionv1.WhisperRequest{ConversationId: id,
					ClientMessageId: uuid.NewString(), Text: "Offer them the yearly plan, it fits what they describe."})
			})
			defer t.Stop()
		}
		_ = follow(wctx, a.supervision.WatchConversation, token, &supervisionv1.WatchConversationRequest{ConversationId: id},
			func(*supervisionv1.WatchConversationResponse) {})
	})
}

// watchSeveral watches two to four open chats on one stream, as the console's
// "my supervised chats" does.
func (s *supervisor) watchSeveral(ctx context.Context, a api, token string, streams *sync.WaitGroup) {
	chats := s.someOpen(2 + s.rng.IntN(3))
	if len(chats) < 2 {
		return
	}
	req := &supervisionv1.WatchConversationsRequest{}
	for _, c := range chats {
		req.Conversations = append(req.Conversations, &supervisionv1.ConversationCursor{ConversationId: c.Id})
	}
	d := s.l.between(s.rng, watchMin, watchMax)
	s.watches.Add(1)
	streams.Go(func() {
		defer s.watches.Add(-1)
		wctx, stop := within(ctx, d)
		defer stop()
		_ = follow(wctx, a.supervision.WatchConversations, token, req, func(*supervisionv1.WatchConversationsResponse) {})
	})
}

// searchWords appear in the demo's conversations.
var searchWords = []string{"plan", "password", "invoice", "trial", "seats", "refund", "thanks"}

// search runs one all-chats search, and sometimes its next page.
func (s *supervisor) search(ctx context.Context, a api, token string) {
	f := &supervisionv1.ChatFilter{}
	switch s.rng.IntN(5) {
	case 0:
		f.Text = searchWords[s.rng.IntN(len(searchWords))]
	case 1:
		f.Agent = s.l.tenant.agents[s.rng.IntN(len(s.l.tenant.agents))]
	case 2:
		f.CsatMin, f.CsatMax = 4, 5
	case 3:
		f.Thumb = chatv1.Thumb_THUMB_DOWN
		f.State = supervisionv1.ChatStateFilter_CHAT_STATE_FILTER_CLOSED
	case 4:
		f.BusinessUnit = s.acct.profile.units[s.rng.IntN(len(s.acct.profile.units))]
		f.From = timestamppb.New(time.Now().Add(-time.Hour))
		f.Text = searchWords[s.rng.IntN(len(searchWords))]
	}
	res, err := unary(ctx, a.supervision.SearchChats, token, &supervisionv1.SearchChatsRequest{Filter: f, PageSize: 25})
	if err == nil && res.NextPageToken != "" && s.rng.IntN(3) == 0 {
		_, _ = unary(ctx, a.supervision.SearchChats, token, &supervisionv1.SearchChatsRequest{Filter: f, PageSize: 25, PageToken: res.NextPageToken})
	}
}

// export downloads the CSV of the last hour's closed chats.
func (s *supervisor) export(ctx context.Context, a api, token string) {
	_ = follow(ctx, a.supervision.ExportChats, token, &supervisionv1.ExportChatsRequest{Filter: &supervisionv1.ChatFilter{
		From: timestamppb.New(time.Now().Add(-time.Hour)), State: supervisionv1.ChatStateFilter_CHAT_STATE_FILTER_CLOSED}},
		func(*supervisionv1.ExportChatsResponse) {})
}

// supervisedChats adds an open chat to the supervisor's list, reads the list and takes
// the chat off again.
func (s *supervisor) supervisedChats(ctx context.Context, a api, token string) {
	chats := s.someOpen(1)
	if len(chats) == 0 {
		return
	}
	id := chats[0].Id
	if _, err := unary(ctx, a.supervision.AddSupervisedChat, token, &supervisionv1.AddSupervisedChatRequest{ConversationId: id}); err != nil {
		return
	}
	_, _ = unary(ctx, a.supervision.ListSupervisedChats, token, &supervisionv1.ListSupervisedChatsRequest{})
	_, _ = unary(ctx, a.supervision.RemoveSupervisedChat, token, &supervisionv1.RemoveSupervisedChatRequest{ConversationId: id})
}

// visitor opens the profile of the visitor of a recent chat.
func (s *supervisor) visitor(ctx context.Context, a api, token string) {
	res, err := unary(ctx, a.supervision.SearchChats, token, &supervisionv1.SearchChatsRequest{PageSize: 5})
	if err != nil || len(res.Chats) == 0 {
		return
	}
	c := res.Chats[s.rng.IntN(len(res.Chats))].GetConversation()
	_, _ = unary(ctx, a.supervision.GetVisitor, token, &supervisionv1.GetVisitorRequest{VisitorId: c.GetVisitorId()})
}

// passersBy bring people who browse the site and leave without chatting, each on a
// connection of its own, as the widget's page views report them.
func (l *load) passersBy(ctx context.Context, rng *rand.Rand) {
	var people sync.WaitGroup
	defer people.Wait()
	for l.pause(ctx, rng, passerByMin, passerByMax) {
		r := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		people.Go(func() { l.passBy(ctx, r) })
	}
}

// sitePages are the pages passers-by view.
var sitePages = []struct{ url, title string }{
	{"https://www.soak.example/", "Soak Test Ltd"},
	{"https://www.soak.example/pricing", "Pricing"},
	{"https://www.soak.example/docs/getting-started", "Getting started"},
	{"https://www.soak.example/blog/what-is-new", "What is new"},
	{"https://www.soak.example/contact", "Contact us"},
}

func (l *load) passBy(ctx context.Context, rng *rand.Rand) {
	a := l.dial(false)
	defer a.close()
	key := ""
	pages := 1 + rng.IntN(4)
	for i := range pages {
		page := sitePages[rng.IntN(len(sitePages))]
		res, err := unary(ctx, a.chat.TrackPageView, "", &chatv1.TrackPageViewRequest{WidgetKey: l.tenant.widgetKey, VisitorKey: key,
			PageUrl: page.url, PageTitle: page.title, Referrer: "https://search.example/?q=soak"})
		if err != nil {
			return
		}
		key = res.VisitorKey
		if i < pages-1 && !l.pause(ctx, rng, pageMin, pageMax) {
			return
		}
	}
	// The widget asks whether anyone is online before it shows the chat button.
	units := l.tenant.visitorUnits()
	_, _ = unary(ctx, a.chat.GetAvailability, "", &chatv1.GetAvailabilityRequest{WidgetKey: l.tenant.widgetKey, BusinessUnit: units[rng.IntN(len(units))]})
}

// admin signs the tenant admin in now and then to read the reports, the offline
// messages and the audit log, and out again.
func (l *load) admin(ctx context.Context, rng *rand.Rand) {
	for l.pause(ctx, rng, adminMin, adminMax) {
		l.adminVisit(ctx)
	}
}

func (l *load) adminVisit(ctx context.Context) {
	a := l.dial(false)
	defer a.close()
	token, err := login(ctx, a, "admin")
	if err != nil {
		return
	}
	defer logout(ctx, a, token)
	today := time.Now().UTC()
	month := &supervisionv1.ReportRange{From: today.AddDate(0, 0, -29).Format(time.DateOnly), To: today.Format(time.DateOnly)}
	_, _ = unary(ctx, a.supervision.ListAuditLog, token, &supervisionv1.ListAuditLogRequest{Limit: 50})
	_, _ = unary(ctx, a.supervision.ListOfflineMessages, token, &supervisionv1.ListOfflineMessagesRequest{Limit: 50})
	_ = follow(ctx, a.supervision.ExportOfflineMessages, token, &supervisionv1.ExportOfflineMessagesRequest{}, func(*supervisionv1.ExportOfflineMessagesResponse) {})
	_, _ = unary(ctx, a.supervision.GetDailyReport, token, &supervisionv1.GetDailyReportRequest{Range: month})
	_, _ = unary(ctx, a.supervision.GetAgentStatistics, token, &supervisionv1.GetAgentStatisticsRequest{Range: month})
	_, _ = unary(ctx, a.supervision.GetInteractionStatistics, token, &supervisionv1.GetInteractionStatisticsRequest{Range: month})
	_ = follow(ctx, a.supervision.ExportReport, token, &supervisionv1.ExportReportRequest{Kind: supervisionv1.ReportKind_REPORT_KIND_DAILY, Range: month},
		func(*supervisionv1.ExportReportResponse) {})
	_, _ = unary(ctx, a.supervision.ListContacts, token, &supervisionv1.ListContactsRequest{Limit: 50})
}
