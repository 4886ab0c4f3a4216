package demo

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
)

// Pace of visitors, at Speed 1.
const (
	// A new visitor arrives every arrivalMin–Max, unless enough are chatting.
	arrivalMin, arrivalMax = 2 * time.Second, 6 * time.Second
	// A visitor reads an answer and thinks before typing the next line.
	thinkMin, thinkMax = 3 * time.Second, 10 * time.Second
	// A visitor waits this long for a first answer (the chat may be queued), then for
	// each later one, then for the agent's last word before leaving.
	firstAnswerPatience = 90 * time.Second
	answerPatience      = 45 * time.Second
	lastWordPatience    = 15 * time.Second
	// Of the visitors who find nobody online, offlineChance leave a message.
	offlineChance = 0.5
	// Before leaving, a visitor rates the chat with rateChance, and closes it (rather
	// than leaving it to the agent) with closeChance.
	rateChance  = 0.85
	closeChance = 0.6
)

// visitors brings a new visitor every few seconds, as long as fewer than maxVisitors
// are chatting, until ctx ends.
func (s *sim) visitors(ctx context.Context) {
	rng := s.rand(0)
	slots := make(chan struct{}, s.maxVisitors)
	var wg sync.WaitGroup
	defer wg.Wait()
	for n := 1; s.pause(ctx, rng, arrivalMin, arrivalMax); n++ {
		select {
		case slots <- struct{}{}:
		default:
			s.log.Debug("no new visitor: enough are chatting", "max_visitors", s.maxVisitors)
			continue
		}
		v := s.newVisitor(n, rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())))
		wg.Go(func() {
			defer func() { <-slots }()
			v.run(ctx)
		})
	}
}

// visitor plays one visitor of a site, from the widget's first look to the rating.
type visitor struct {
	s *sim
	// api is the visitor's browser talking to the server, for this one visit.
	api         api
	rng         *rand.Rand
	log         *slog.Logger
	unit        string
	script      script
	name, email string
	// userAgent is the visitor's browser; key recognises the visitor (TrackPageView).
	userAgent, key string
	// token authorizes the visitor's calls on conv.
	token, conv string
	// answers counts the agent's messages the visitor has not reacted to yet; closed is
	// set once the conversation ended.
	answers int
	closed  bool
}

func (s *sim) newVisitor(n int, rng *rand.Rand) *visitor {
	first, last := pick(rng, firstNames), pick(rng, lastNames)
	unit := pick(rng, s.o.Units)
	return &visitor{s: s, rng: rng, log: s.log.With("visitor", n, "unit", unit), unit: unit, script: scriptFor(unit),
		name: first + " " + last, email: strings.ToLower(first+"."+last) + "@example.com", userAgent: pick(rng, userAgents)}
}

// userAgents are the browsers demo visitors come with.
var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
}

// browse views the site's home page, then the page the visitor chats from, as the widget
// reports them.
func (v *visitor) browse(ctx context.Context) {
	for _, page := range []struct{ url, title string }{{"https://www.acme.example/", "Acme"}, {v.script.page, "Acme – " + v.unit}} {
		_ = v.s.call(ctx, v.log, "visitor views a page", func(ctx context.Context) error {
			req := connect.NewRequest(&chatv1.TrackPageViewRequest{WidgetKey: v.s.o.WidgetKey, VisitorKey: v.key,
				PageUrl: page.url, PageTitle: page.title, Referrer: "https://search.example/?q=acme"})
			req.Header().Set("User-Agent", v.userAgent)
			res, err := v.api.chat.TrackPageView(ctx, req)
			if err == nil {
				v.key = res.Msg.VisitorKey
			}
			return err
		})
	}
}

// run looks whether anyone is online; if so it chats, else it may leave a message.
func (v *visitor) run(ctx context.Context) {
	v.api = v.s.connection(false)
	defer v.api.close()
	var avail *chatv1.GetAvailabilityResponse
	err := v.s.call(ctx, v.log, "visitor checks availability", func(ctx context.Context) error {
		res, err := v.api.chat.GetAvailability(ctx, connect.NewRequest(&chatv1.GetAvailabilityRequest{
			WidgetKey: v.s.o.WidgetKey, BusinessUnit: v.unit}))
		if err == nil {
			avail = res.Msg
		}
		return err
	})
	if err != nil {
		return
	}
	if !avail.AgentsOnline {
		if avail.AcceptsOfflineMessages && v.rng.Float64() < offlineChance {
			v.leaveMessage(ctx)
		}
		return
	}
	v.browse(ctx)
	if !v.start(ctx) {
		return
	}
	fctx, cancel := context.WithCancel(ctx)
	feed := make(chan *chatv1.Event, 16)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	wg.Go(func() { v.follow(fctx, feed) })
	v.chat(ctx, feed)
}

func (v *visitor) leaveMessage(ctx context.Context) {
	_ = v.s.call(ctx, v.log, "visitor leaves an offline message", func(ctx context.Context) error {
		_, err := v.api.chat.LeaveOfflineMessage(ctx, connect.NewRequest(&chatv1.LeaveOfflineMessageRequest{
			WidgetKey: v.s.o.WidgetKey, BusinessUnit: v.unit, Name: v.name, Email: v.email, Text: pick(v.rng, v.script.offline)}))
		return err
	})
}

// start opens the conversation with a first message; false means there is none.
func (v *visitor) start(ctx context.Context) bool {
	var res *chatv1.StartConversationResponse
	err := v.s.call(ctx, v.log, "visitor starts conversation", func(ctx context.Context) error {
		req := connect.NewRequest(&chatv1.StartConversationRequest{
			WidgetKey: v.s.o.WidgetKey, BusinessUnit: v.unit, VisitorName: v.name, VisitorEmail: v.email,
			FirstMessage: &chatv1.Message{ClientMessageId: uuid.NewString(), Text: pick(v.rng, v.script.openers)},
			PageUrl:      v.script.page, VisitorKey: v.key})
		req.Header().Set("User-Agent", v.userAgent)
		r, err := v.api.chat.StartConversation(ctx, req)
		if err == nil {
			res = r.Msg
		}
		return err
	})
	switch {
	case err != nil:
		return false
	case res.OfflineMessageId != "":
		v.log.Debug("nobody was online any more: the first message was kept as an offline message")
		return false
	}
	v.token, v.conv = res.VisitorToken, res.GetConversation().GetId()
	v.log = v.log.With("conversation", v.conv)
	return true
}

// follow passes the conversation's events to feed until it closes or ctx ends,
// subscribing again after the last event it saw when the stream breaks.
func (v *visitor) follow(ctx context.Context, feed chan<- *chatv1.Event) {
	var after int64
	var b backoff
	for {
		done, err := v.subscribe(ctx, &after, feed)
		if done || ctx.Err() != nil || gone(err) {
			return
		}
		d := b.next()
		v.log.Debug("visitor's subscription ended; subscribing again", "code", connect.CodeOf(err).String(), "err", err, "after_seq", after, "retry_in", d)
		if !sleep(ctx, d) {
			return
		}
	}
}

// subscribe follows the conversation after *after; done means it closed or ctx ended.
func (v *visitor) subscribe(ctx context.Context, after *int64, feed chan<- *chatv1.Event) (done bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req := connect.NewRequest(&chatv1.SubscribeRequest{ConversationId: v.conv, AfterSeq: *after})
	bearer(req.Header(), v.token)
	stream, err := v.api.chat.Subscribe(sctx, req)
	if err != nil {
		return false, err
	}
	defer func() {
		// Cancel first: closing a stream that is still open would wait for its end.
		cancel()
		stream.Close()
	}()
	for stream.Receive() {
		e := stream.Msg().GetEvent()
		if e.GetTyping() != nil {
			continue // the agent is typing: nothing to do but wait
		}
		*after = max(*after, e.Seq)
		select {
		case feed <- e:
		case <-ctx.Done():
			return true, nil
		}
		if e.GetSystem().GetKind() == chatv1.SystemEventKind_SYSTEM_EVENT_KIND_CLOSED {
			return true, nil
		}
	}
	return false, stream.Err()
}

// chat writes a few more lines, each after the agent answered the last one, then rates
// the conversation and closes it or leaves it for the agent to close.
func (v *visitor) chat(ctx context.Context, feed <-chan *chatv1.Event) {
	more := 2 + v.rng.IntN(4)
	patience := firstAnswerPatience
	for i := 0; i < more && !v.closed; i++ {
		if !v.listen(ctx, feed, v.s.scaled(patience), true) {
			return
		}
		if v.closed {
			break
		}
		if v.answers == 0 {
			v.log.Debug("visitor gives up waiting for an answer")
			v.close(ctx, "nobody answered")
			return
		}
		v.answers = 0
		patience = answerPatience
		if !v.listen(ctx, feed, v.s.between(v.rng, thinkMin, thinkMax), false) {
			return
		}
		if v.closed {
			break
		}
		text := pick(v.rng, v.script.followUps)
		if i == more-1 {
			text = pick(v.rng, thanks)
		}
		if !v.say(ctx, text) {
			return
		}
	}
	if !v.closed && !v.listen(ctx, feed, v.s.scaled(lastWordPatience), true) {
		return
	}
	if v.rng.Float64() < rateChance {
		v.rate(ctx)
	}
	if !v.closed && v.rng.Float64() < closeChance {
		v.close(ctx, "")
	}
}

// listen reads the conversation's news for up to d, or until the agent answered when
// untilAnswer is set, or until the conversation closed; false means ctx ended.
func (v *visitor) listen(ctx context.Context, feed <-chan *chatv1.Event, d time.Duration, untilAnswer bool) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for !v.closed && (!untilAnswer || v.answers == 0) {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		case e := <-feed:
			v.read(e)
		}
	}
	return true
}

func (v *visitor) read(e *chatv1.Event) {
	switch {
	case e.GetMessage() != nil && e.GetAuthor().GetKind() == chatv1.AuthorKind_AUTHOR_KIND_AGENT:
		v.answers++
		v.log.Debug("visitor reads an answer", "seq", e.Seq)
	case e.GetSystem() != nil:
		kind := e.GetSystem().GetKind()
		v.closed = v.closed || kind == chatv1.SystemEventKind_SYSTEM_EVENT_KIND_CLOSED
		v.log.Debug("visitor sees the conversation change", "seq", e.Seq, "kind", kind.String())
	}
}

// say types text, which staff see as the visitor's draft, and sends it; false means
// ctx ended.
func (v *visitor) say(ctx context.Context, text string) bool {
	_ = v.s.call(ctx, v.log, "visitor types", func(ctx context.Context) error {
		req := connect.NewRequest(&chatv1.UpdateDraftRequest{ConversationId: v.conv, Text: typed(text, 0.5)})
		bearer(req.Header(), v.token)
		_, err := v.api.chat.UpdateDraft(ctx, req)
		return err
	})
	if !v.s.pause(ctx, v.rng, typeMin, 2*typeMax) {
		return false
	}
	id := uuid.NewString()
	err := v.s.call(ctx, v.log, "visitor sends message", func(ctx context.Context) error {
		req := connect.NewRequest(&chatv1.SendMessageRequest{ConversationId: v.conv, ClientMessageId: id, Text: text})
		bearer(req.Header(), v.token)
		_, err := v.api.chat.SendMessage(ctx, req)
		return err
	})
	v.closed = v.closed || gone(err)
	return ctx.Err() == nil
}

// csatScores weighs the scores visitors give: mostly happy, some not.
var csatScores = []int32{1, 2, 3, 3, 4, 4, 4, 5, 5, 5, 5}

func (v *visitor) rate(ctx context.Context) {
	csat := csatScores[v.rng.IntN(len(csatScores))]
	r := &chatv1.RateConversationRequest{ConversationId: v.conv, Csat: csat, Thumb: chatv1.Thumb_THUMB_UP}
	if csat <= 2 || csat == 3 && v.rng.IntN(2) == 0 {
		r.Thumb = chatv1.Thumb_THUMB_DOWN
	}
	for _, c := range []chatv1.RatingCriterion{chatv1.RatingCriterion_RATING_CRITERION_WELCOME,
		chatv1.RatingCriterion_RATING_CRITERION_RESPONSE_TIME, chatv1.RatingCriterion_RATING_CRITERION_QUALITY} {
		if v.rng.Float64() < 0.6 {
			score := min(max(csat+int32(v.rng.IntN(3))-1, 1), 5)
			r.Criteria = append(r.Criteria, &chatv1.CriterionScore{Criterion: c, Score: score})
		}
	}
	if v.rng.Float64() < 0.3 {
		r.Comment = pick(v.rng, comments[csat >= 3])
	}
	_ = v.s.call(ctx, v.log.With("csat", csat, "thumb", r.Thumb.String()), "visitor rates conversation", func(ctx context.Context) error {
		req := connect.NewRequest(r)
		bearer(req.Header(), v.token)
		_, err := v.api.chat.RateConversation(ctx, req)
		return err
	})
}

func (v *visitor) close(ctx context.Context, reason string) {
	err := v.s.call(ctx, v.log, "visitor closes conversation", func(ctx context.Context) error {
		req := connect.NewRequest(&chatv1.CloseConversationRequest{ConversationId: v.conv, Reason: reason})
		bearer(req.Header(), v.token)
		_, err := v.api.chat.CloseConversation(ctx, req)
		return err
	})
	v.closed = v.closed || err == nil
}
