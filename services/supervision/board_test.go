package supervision_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1/supervisionv1connect"
	"github.com/switchboard-chat/switchboard/services/live"
	"github.com/switchboard-chat/switchboard/services/server"
	"github.com/switchboard-chat/switchboard/services/store"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// figures are a board's last values by panel and legend.
type figures map[string]map[string]float64

func figuresOf(t *testing.T, b *supervisionv1.Board) figures {
	t.Helper()
	out := figures{}
	for _, p := range b.Panels {
		if p.Error != "" {
			t.Fatalf("panel %s: %s", p.Id, p.Error)
		}
		out[p.Id] = map[string]float64{}
		for _, s := range p.Series {
			if _, ok := s.Labels["tenant"]; ok {
				t.Fatalf("panel %s shows the tenant label: %v", p.Id, s.Labels)
			}
			out[p.Id][s.Legend] = s.Samples[len(s.Samples)-1].Value
		}
	}
	return out
}

// boardUntil asks for the board until want holds of the panels named: each legend named
// has its value, and a panel wanted empty is empty (the embedded engine scrapes every few
// seconds). It fails with the last figures after 20 seconds.
func boardUntil(t *testing.T, c supervisionv1connect.SupervisionServiceClient, unit string, want figures) *supervisionv1.Board {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := c.GetBoard(context.Background(), connect.NewRequest(&supervisionv1.GetBoardRequest{BusinessUnit: unit}))
		if err != nil {
			t.Fatalf("GetBoard %q: %v", unit, err)
		}
		got := figuresOf(t, res.Msg.Board)
		ok := true
		for panel, values := range want {
			if len(values) == 0 && len(got[panel]) != 0 {
				ok = false
			}
			for legend, v := range values {
				if g, found := got[panel][legend]; !found || g != v {
					ok = false
				}
			}
		}
		if ok {
			return res.Msg.Board
		}
		if time.Now().After(deadline) {
			for panel, values := range want {
				t.Errorf("panel %s: got %v, want %v", panel, got[panel], values)
			}
			t.FailNow()
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func supervisionAt(env *testenv.Env, base, token string) supervisionv1connect.SupervisionServiceClient {
	return supervisionv1connect.NewSupervisionServiceClient(env.HTTP, base, connect.WithInterceptors(testenv.Bearer(token)))
}

// activity puts ann (sales) and cat (support) online, with one accepted conversation each,
// the sales one rated thumbs up (welcome 5, quality 2) and the support one thumbs down.
func activity(t *testing.T, env *testenv.Env) (sales, support *chatv1.Conversation) {
	t.Helper()
	ctx := context.Background()
	ann, _ := agentOnline(t, env, "acme", "ann")
	cat, _ := agentOnline(t, env, "acme", "cat")
	sales, salesVisitor, _ := visitorStart(t, env, "sales")
	support, supportVisitor, _ := visitorStart(t, env, "support")
	for _, a := range []struct {
		agent interface {
			AcceptConversation(context.Context, *connect.Request[chatv1.AcceptConversationRequest]) (*connect.Response[chatv1.AcceptConversationResponse], error)
		}
		conv string
	}{{ann, sales.Id}, {cat, support.Id}} {
		if _, err := a.agent.AcceptConversation(ctx, connect.NewRequest(&chatv1.AcceptConversationRequest{ConversationId: a.conv})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := salesVisitor.RateConversation(ctx, connect.NewRequest(&chatv1.RateConversationRequest{ConversationId: sales.Id, Thumb: chatv1.Thumb_THUMB_UP,
		Criteria: []*chatv1.CriterionScore{{Criterion: chatv1.RatingCriterion_RATING_CRITERION_WELCOME, Score: 5}, {Criterion: chatv1.RatingCriterion_RATING_CRITERION_QUALITY, Score: 2}}})); err != nil {
		t.Fatal(err)
	}
	if _, err := supportVisitor.RateConversation(ctx, connect.NewRequest(&chatv1.RateConversationRequest{ConversationId: support.Id, Thumb: chatv1.Thumb_THUMB_DOWN})); err != nil {
		t.Fatal(err)
	}
	return sales, support
}

func TestASupervisorSeesTheBoardOfTheUnitsTheySupervise(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := context.Background()
	sales, _ := activity(t, env)
	sam := env.Supervision(env.Login(t, "acme", "sam"))
	sue := env.Supervision(env.Login(t, "acme", "sue"))
	admin := env.Supervision(env.Login(t, "acme", "admin"))
	gina := env.Supervision(env.Login(t, "globex", "gina"))

	t.Run("a supervisor of two units sees both", func(t *testing.T) {
		b := boardUntil(t, sam, "", figures{
			"agents-by-status":   {"available": 2, "busy": 0, "unavailable": 0},
			"slots":              {"free": 4, "used": 2},
			"visitors":           {"in conversation": 2, "waiting": 0},
			"satisfaction-today": {"satisfaction": 0.5},
			"ratings-today":      {"ratings": 2},
		})
		if b.Source != "embedded" {
			t.Fatalf("source %q, want embedded", b.Source)
		}
		for _, p := range b.Panels {
			if p.Width == 0 || p.Height == 0 || p.Title == "" {
				t.Fatalf("panel %s has no place or title: %v", p.Id, p)
			}
		}
	})
	t.Run("one unit asked for is that unit alone", func(t *testing.T) {
		boardUntil(t, sam, "sales", figures{
			"agents-by-status":          {"available": 1, "busy": 0, "unavailable": 0},
			"slots":                     {"free": 2, "used": 1},
			"visitors":                  {"in conversation": 1, "waiting": 0},
			"satisfaction-today":        {"satisfaction": 1},
			"satisfaction-by-criterion": {"welcome": 1, "quality": 0},
		})
	})
	t.Run("a supervisor who only sees support's open chats sees support", func(t *testing.T) {
		boardUntil(t, sue, "", figures{
			"agents-by-status":   {"available": 1, "busy": 0, "unavailable": 0},
			"satisfaction-today": {"satisfaction": 0},
		})
	})
	t.Run("the tenant admin sees the whole tenant", func(t *testing.T) {
		boardUntil(t, admin, "", figures{"slots": {"free": 4, "used": 2}})
	})
	t.Run("another tenant's supervisor sees none of acme", func(t *testing.T) {
		boardUntil(t, gina, "", figures{
			"agents-by-status": {"available": 0, "busy": 0, "unavailable": 0},
			"slots":            {"free": 0, "used": 0},
			// globex's own counters, started at zero; acme's two ratings never show.
			"ratings-today": {"ratings": 0},
		})
	})

	// A signal of sales is on sam's board and not on sue's.
	tenant := env.Tenants["acme"].ID
	var signal *store.Signal
	err := env.Replicas[0].Server.DB.InTenant(ctx, tenant, func(tx pgx.Tx) error {
		var unit uuid.UUID
		if err := tx.QueryRow(ctx, `SELECT unit_id FROM business_units WHERE name = 'sales'`).Scan(&unit); err != nil {
			return err
		}
		conv := uuid.MustParse(sales.Id)
		signal = &store.Signal{Objective: "first-response", Metric: "firstResponseTime", Level: store.LevelCritical, Source: store.SourceLive,
			Subject: store.ConversationSubject(conv), Conversation: uuid.NullUUID{UUID: conv, Valid: true}, Unit: uuid.NullUUID{UUID: unit, Valid: true},
			Value: 130, Threshold: 120, Summary: "first response 2m10s (critical above 2m)"}
		_, _, err := store.RaiseSignal(ctx, tx, signal)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the active signals of the caller's units are on the board", func(t *testing.T) {
		res, err := sam.GetBoard(ctx, connect.NewRequest(&supervisionv1.GetBoardRequest{BusinessUnit: "sales"}))
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Msg.Board.Signals; len(got) != 1 || got[0].ConversationId != sales.Id ||
			got[0].Level != supervisionv1.SignalLevel_SIGNAL_LEVEL_CRITICAL || got[0].BusinessUnit != "sales" {
			t.Fatalf("sam's sales board signals: %v", got)
		}
		res, err = sue.GetBoard(ctx, connect.NewRequest(&supervisionv1.GetBoardRequest{}))
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Msg.Board.Signals; len(got) != 0 {
			t.Fatalf("sue's support board shows signals %v", got)
		}
	})

	t.Run("nothing in a request widens the board", func(t *testing.T) {
		for _, unit := range []string{".*", "sales|support", `sales"} or vector(1) or {x="`, "Sales"} {
			_, err := sue.GetBoard(ctx, connect.NewRequest(&supervisionv1.GetBoardRequest{BusinessUnit: unit}))
			if testenv.Code(err) != connect.CodePermissionDenied {
				t.Errorf("sue asking for unit %q: %v, want PermissionDenied", unit, err)
			}
		}
		_, err := sue.GetBoard(ctx, connect.NewRequest(&supervisionv1.GetBoardRequest{BusinessUnit: "sales"}))
		if testenv.Code(err) != connect.CodePermissionDenied {
			t.Errorf("sue asking for sales: %v, want PermissionDenied", err)
		}
		_, err = gina.GetBoard(ctx, connect.NewRequest(&supervisionv1.GetBoardRequest{BusinessUnit: "support"}))
		if testenv.Code(err) != connect.CodePermissionDenied {
			t.Errorf("gina asking for acme's support: %v, want PermissionDenied", err)
		}
	})
	t.Run("a range outside a minute to a day is refused, naming the field", func(t *testing.T) {
		for _, r := range []int32{-1, 59, 86401} {
			_, err := sam.GetBoard(ctx, connect.NewRequest(&supervisionv1.GetBoardRequest{RangeSeconds: r}))
			if testenv.Code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "range_seconds") {
				t.Errorf("range_seconds %d: %v", r, err)
			}
		}
		res, err := sam.GetBoard(ctx, connect.NewRequest(&supervisionv1.GetBoardRequest{RangeSeconds: 300}))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range res.Msg.Board.Panels {
			for _, s := range p.Series {
				if p.Kind == supervisionv1.PanelKind_PANEL_KIND_TIME_SERIES && s.Samples[0].Time.AsTime().Before(res.Msg.Board.EvaluatedAt.AsTime().Add(-300*time.Second)) {
					t.Fatalf("panel %s starts at %v, before the 5 minutes asked", p.Id, s.Samples[0].Time.AsTime())
				}
			}
		}
	})
}

// boardFeed is what a WatchBoard stream delivered, in order.
type boardFeed struct {
	mu    sync.Mutex
	items []*supervisionv1.WatchBoardResponse
	err   error
}

func (f *boardFeed) snapshot() ([]*supervisionv1.WatchBoardResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.items), f.err
}

func (f *boardFeed) waitFor(t *testing.T, what string, ok func([]*supervisionv1.WatchBoardResponse) bool) []*supervisionv1.WatchBoardResponse {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		items, err := f.snapshot()
		if ok(items) {
			return items
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("no %s (stream: %v) after %d items", what, err, len(items))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func boards(items []*supervisionv1.WatchBoardResponse) int {
	n := 0
	for _, it := range items {
		if it.Board != nil {
			n++
		}
	}
	return n
}

func TestTheBoardStreamKeepsItsCadenceAndCarriesTheUnitsSignals(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sam := env.Supervision(env.Login(t, "acme", "sam"))
	stream, err := sam.WatchBoard(ctx, connect.NewRequest(&supervisionv1.WatchBoardRequest{BusinessUnit: "sales"}))
	if err != nil {
		t.Fatal(err)
	}
	feed := &boardFeed{}
	go func() {
		for stream.Receive() {
			feed.mu.Lock()
			feed.items = append(feed.items, stream.Msg())
			feed.mu.Unlock()
		}
		feed.mu.Lock()
		feed.err = stream.Err()
		feed.mu.Unlock()
	}()
	feed.waitFor(t, "first board", func(items []*supervisionv1.WatchBoardResponse) bool { return boards(items) == 1 })

	// A burst of signals: support's is not sam's on this board; each of sales' comes as
	// it is raised, and the board follows once, not once per signal.
	tenant := env.Tenants["acme"].ID
	units := map[string]uuid.UUID{}
	rows, err := env.Owner.Query(ctx, `SELECT name, unit_id FROM business_units WHERE tenant_id = $1`, tenant)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var id uuid.UUID
		if err := rows.Scan(&name, &id); err != nil {
			t.Fatal(err)
		}
		units[name] = id
	}
	hub := env.Replicas[0].Server.Hub
	publish := func(unit, objective string) {
		hub.Publish(live.Signals(tenant), live.Item{Signal: &store.Signal{ID: uuid.New(), Tenant: tenant, Objective: objective, Metric: "handlingDuration",
			Level: store.LevelWarning, Source: store.SourceLive, Unit: uuid.NullUUID{UUID: units[unit], Valid: true}, UnitName: unit, RaisedAt: time.Now()}})
	}
	publish("support", "support-handling")
	const burst = 5
	for i := range burst {
		publish("sales", fmt.Sprintf("sales-handling-%d", i))
	}
	items := feed.waitFor(t, "the burst's signals and two more boards", func(items []*supervisionv1.WatchBoardResponse) bool {
		signals := 0
		for _, it := range items {
			if it.Signal != nil {
				signals++
			}
		}
		return signals == burst && boards(items) >= 3
	})
	var seen []string
	boardsWithinBurst := 0
	for _, it := range items {
		switch {
		case it.Signal != nil:
			if it.Signal.BusinessUnit != "sales" {
				t.Fatalf("a signal of %s reached a sales board: %v", it.Signal.BusinessUnit, it.Signal)
			}
			seen = append(seen, it.Signal.Objective)
		case len(seen) > 0 && len(seen) < burst:
			boardsWithinBurst++
		}
	}
	if want := []string{"sales-handling-0", "sales-handling-1", "sales-handling-2", "sales-handling-3", "sales-handling-4"}; !slices.Equal(seen, want) {
		t.Fatalf("signals %v, want %v in order", seen, want)
	}
	if boardsWithinBurst > 1 {
		t.Fatalf("%d boards between the burst's signals: the board follows signals at most once a second", boardsWithinBurst)
	}

	// The stream ends with Unavailable when the server shuts down.
	go env.Replicas[0].Stop() //nolint:errcheck
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := feed.snapshot(); err != nil {
			if testenv.Code(err) != connect.CodeUnavailable {
				t.Fatalf("the stream ended with %v, want Unavailable", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stream did not end on shutdown")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTheBoardReadsAnExternalPrometheus starts the real prometheus binary scraping the
// test server, and a replica reading the board from it.
func TestTheBoardReadsAnExternalPrometheus(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the prometheus binary is required in CI (make prometheus-tools)")
		}
		t.Skip("no prometheus binary on PATH (make prometheus-tools installs it)")
	}
	env := testenv.Start(t, cluster, config)
	activity(t, env)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	target := strings.TrimPrefix(env.Base, "http://")
	cfg := fmt.Sprintf("global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n  - job_name: switchboard\n    static_configs: [{targets: [%q]}]\n", target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	prom := exec.CommandContext(ctx, bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	prom.Stdout, prom.Stderr = os.Stderr, os.Stderr
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); prom.Wait() }) //nolint:errcheck
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus on %s not ready: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	external := env.StartReplica(t, server.Config{PrometheusURL: "http://" + addr})
	token := env.Login(t, "acme", "sam")
	want := figures{
		"agents-by-status": {"available": 2, "busy": 0, "unavailable": 0},
		"slots":            {"free": 4, "used": 2},
		"visitors":         {"in conversation": 2, "waiting": 0},
	}
	embedded := boardUntil(t, supervisionAt(env, env.Base, token), "", want)
	fromPrometheus := boardUntil(t, supervisionAt(env, external.Base, token), "", want)
	if fromPrometheus.Source != addr {
		t.Fatalf("source %q, want the Prometheus' host %s", fromPrometheus.Source, addr)
	}
	if len(fromPrometheus.Panels) != len(embedded.Panels) {
		t.Fatalf("%d panels from Prometheus, %d embedded", len(fromPrometheus.Panels), len(embedded.Panels))
	}
	boardUntil(t, supervisionAt(env, external.Base, token), "sales", figures{"slots": {"free": 2, "used": 1}})
	boardUntil(t, supervisionAt(env, external.Base, env.Login(t, "globex", "gina")), "", figures{"slots": {"free": 0, "used": 0}})
}
