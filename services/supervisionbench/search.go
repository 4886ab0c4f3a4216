package supervisionbench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"

	"github.com/switchboard-chat/switchboard/services/bench"
)

// stored seeds the search tenant, then runs the search and export phases on it.
func (e *environment) stored(ctx context.Context, rep *Report) error {
	rep.Search = &Search{Runs: e.o.SearchRuns}
	st, err := e.seedStored(ctx, rep.Search)
	if st != nil && e.o.DatabaseURL != "" && !e.o.Keep {
		// A private cluster goes away with its folder; a given database keeps only what
		// it had.
		defer func() {
			if err := e.deleteTenant(ctx, st.applied.Name); err != nil {
				rep.Errors = append(rep.Errors, err.Error())
			}
		}()
	}
	if err != nil {
		return err
	}
	token, err := e.clients[0].login(ctx, st.applied.Name, auditor)
	if err != nil {
		return fmt.Errorf("the auditor signing in: %w", err)
	}
	e.o.Logf("supervision bench: search: %d kinds of query, %d runs each", len(searchKinds(st)), e.o.SearchRuns)
	if err := e.search(ctx, st, token, rep.Search); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	for _, rows := range e.o.ExportRows {
		rows = min(rows, len(st.created))
		e.o.Logf("supervision bench: exporting %d conversations", rows)
		run, err := e.export(ctx, st, token, rows)
		rep.Exports = append(rep.Exports, run)
		if err != nil {
			return fmt.Errorf("export of %d rows: %w", rows, err)
		}
	}
	return nil
}

// searchKind is one kind of query a supervisor makes in the all-chats list.
type searchKind struct {
	name string
	// page is the page that is timed; the earlier ones are read first, untimed.
	page   int
	filter func(rng *rand.Rand) *supervisionv1.ChatFilter
}

func searchKinds(st *storedTenant) []searchKind {
	n := len(st.created)
	oldest, newest := st.created[n-1], st.created[0]
	window := func(rng *rand.Rand, d time.Duration) (*timestamppb.Timestamp, *timestamppb.Timestamp) {
		from := oldest.Add(time.Duration(rng.Int64N(int64(newest.Sub(oldest) - d))))
		return timestamppb.New(from), timestamppb.New(from.Add(d))
	}
	pick := func(rng *rand.Rand, xs ...string) string { return xs[rng.IntN(len(xs))] }
	common := func(rng *rand.Rand) *supervisionv1.ChatFilter {
		return &supervisionv1.ChatFilter{Text: pick(rng, "order", "delivery", "thanks")}
	}
	return []searchKind{
		{"text: a common word", 1, common},
		{"text: a rare word", 1, func(rng *rand.Rand) *supervisionv1.ChatFilter {
			return &supervisionv1.ChatFilter{Text: pick(rng, "chargeback", "customs", "warranty", orderNumber(rng.IntN(n)))}
		}},
		{"text: several words", 1, func(rng *rand.Rand) *supervisionv1.ChatFilter {
			return &supervisionv1.ChatFilter{Text: pick(rng, "refund card", "delivery address", "discount code checkout", "free replacement label")}
		}},
		{"filter: agent", 1, func(rng *rand.Rand) *supervisionv1.ChatFilter {
			return &supervisionv1.ChatFilter{Agent: agentName(rng.IntN(len(st.agents)))}
		}},
		{"filter: business unit", 1, func(rng *rand.Rand) *supervisionv1.ChatFilter {
			return &supervisionv1.ChatFilter{BusinessUnit: pick(rng, searchUnits...)}
		}},
		{"filter: 7 days", 1, func(rng *rand.Rand) *supervisionv1.ChatFilter {
			from, to := window(rng, 7*24*time.Hour)
			return &supervisionv1.ChatFilter{From: from, To: to}
		}},
		{"filter: CSAT", 1, func(rng *rand.Rand) *supervisionv1.ChatFilter {
			switch rng.IntN(3) {
			case 0:
				return &supervisionv1.ChatFilter{CsatMin: 4}
			case 1:
				return &supervisionv1.ChatFilter{CsatMax: 2}
			}
			return &supervisionv1.ChatFilter{CsatMin: 3, CsatMax: 3}
		}},
		{"filter: thumb", 1, func(rng *rand.Rand) *supervisionv1.ChatFilter {
			return &supervisionv1.ChatFilter{Thumb: chatv1.Thumb(1 + rng.IntN(2))}
		}},
		{"filter: sentiment", 1, func(rng *rand.Rand) *supervisionv1.ChatFilter {
			return &supervisionv1.ChatFilter{Sentiment: supervisionv1.Sentiment(1 + rng.IntN(3))}
		}},
		{"combined: unit, dates, text, rating", 1, func(rng *rand.Rand) *supervisionv1.ChatFilter {
			switch rng.IntN(3) {
			case 0:
				from, to := window(rng, 30*24*time.Hour)
				return &supervisionv1.ChatFilter{BusinessUnit: pick(rng, searchUnits...), From: from, To: to, Text: "refund", CsatMax: 2}
			case 1:
				return &supervisionv1.ChatFilter{Agent: agentName(rng.IntN(len(st.agents))), Text: "order", Thumb: chatv1.Thumb_THUMB_DOWN}
			}
			from, to := window(rng, 90*24*time.Hour)
			return &supervisionv1.ChatFilter{BusinessUnit: pick(rng, searchUnits...), From: from, To: to,
				Sentiment: supervisionv1.Sentiment_SENTIMENT_NEGATIVE, State: supervisionv1.ChatStateFilter_CHAT_STATE_FILTER_CLOSED}
		}},
		{"page 2: a common word", 2, common},
		{"page 3: a common word", 3, common},
	}
}

// search times each kind of query SearchRuns times, the kinds interleaved, after one
// untimed round.
func (e *environment) search(ctx context.Context, st *storedTenant, token string, res *Search) error {
	kinds := searchKinds(st)
	rng := rand.New(rand.NewPCG(e.o.Seed, 3))
	lat := make([][]int64, len(kinds))
	rows := make([]int, len(kinds))
	examples := make([]string, len(kinds))
	api := e.clients[0].supervision
	for run := -1; run < e.o.SearchRuns; run++ {
		for k, kind := range kinds {
			f := kind.filter(rng)
			if examples[k] == "" {
				examples[k] = describeFilter(f)
			}
			token := token
			pageToken := ""
			for page := 1; page <= kind.page; page++ {
				start := time.Now()
				resp, err := api.SearchChats(ctx, authorized(token, &supervisionv1.SearchChatsRequest{Filter: f, PageToken: pageToken}))
				took := time.Since(start)
				if err != nil {
					return fmt.Errorf("%s (%s): %w", kind.name, describeFilter(f), err)
				}
				if page == kind.page && run >= 0 {
					lat[k] = append(lat[k], int64(took))
					rows[k] += len(resp.Msg.Chats)
				}
				if pageToken = resp.Msg.NextPageToken; pageToken == "" && page < kind.page {
					return fmt.Errorf("%s (%s): page %d is the last, the phase needs %d", kind.name, describeFilter(f), page, kind.page)
				}
			}
		}
	}
	var all []int64
	for k, kind := range kinds {
		all = append(all, lat[k]...)
		res.Kinds = append(res.Kinds, QueryKind{Name: kind.name, Example: examples[k], Latency: bench.LatencyOf(lat[k]),
			MeanRows: float64(rows[k]) / float64(len(lat[k]))})
	}
	res.Overall = bench.LatencyOf(all)
	return nil
}

// describeFilter is a filter as a person reads it.
func describeFilter(f *supervisionv1.ChatFilter) string {
	var parts []string
	add := func(format string, args ...any) { parts = append(parts, fmt.Sprintf(format, args...)) }
	if f.Text != "" {
		add("text %q", f.Text)
	}
	if f.BusinessUnit != "" {
		add("unit %s", f.BusinessUnit)
	}
	if f.Agent != "" {
		add("agent %s", f.Agent)
	}
	if f.From != nil && f.To != nil {
		add("%d days", int(f.To.AsTime().Sub(f.From.AsTime()).Hours()/24))
	} else if f.From != nil {
		add("from %s", f.From.AsTime().Format(time.DateOnly))
	}
	if f.CsatMin > 0 {
		add("csat>=%d", f.CsatMin)
	}
	if f.CsatMax > 0 {
		add("csat<=%d", f.CsatMax)
	}
	if f.Thumb != chatv1.Thumb_THUMB_UNSPECIFIED {
		add("thumb %s", strings.ToLower(strings.TrimPrefix(f.Thumb.String(), "THUMB_")))
	}
	if f.Sentiment != supervisionv1.Sentiment_SENTIMENT_UNSPECIFIED {
		add("sentiment %s", strings.ToLower(strings.TrimPrefix(f.Sentiment.String(), "SENTIMENT_")))
	}
	if f.State != supervisionv1.ChatStateFilter_CHAT_STATE_FILTER_UNSPECIFIED {
		add("state %s", strings.ToLower(strings.TrimPrefix(f.State.String(), "CHAT_STATE_FILTER_")))
	}
	return strings.Join(parts, ", ")
}
