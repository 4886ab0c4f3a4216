package supervisionbench

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/switchboard-chat/switchboard/api/v1alpha1"
	"github.com/switchboard-chat/switchboard/services/provision"
	"github.com/switchboard-chat/switchboard/services/search"
	"github.com/switchboard-chat/switchboard/services/sentiment"
	"github.com/switchboard-chat/switchboard/services/store"
)

// The search tenant: four units of ten agents each, and one supervisor, the auditor, with
// AllChats on every unit.
var searchUnits = []string{"sales", "support", "billing", "returns"}

const (
	agentsPerUnit = 10
	auditor       = "auditor"
	// openShare is the share of stored conversations still open (1 in openShare).
	openShare = 100
	// storedSpan is how far back the closed conversations go.
	storedSpan = 365 * 24 * time.Hour
	// indexTimeout bounds the indexer's catching up with the seeded conversations.
	indexTimeout = 15 * time.Minute
)

// storedTenant is the seeded tenant of the search and export phases.
type storedTenant struct {
	applied provision.Applied
	units   []uuid.UUID // by index of searchUnits
	agents  []uuid.UUID // agent i is in unit i / agentsPerUnit
	// created is each conversation's start, newest first.
	created []time.Time
	now     time.Time
}

func agentName(i int) string { return fmt.Sprintf("agent-%02d", i+1) }

// seededConversation is one generated conversation; the same index and seed always give
// the same conversation.
type seededConversation struct {
	id, visitor           uuid.UUID
	visitorName           string
	unit, agent           int
	open                  bool
	created, lastActivity time.Time
	closed                time.Time
	firstAgent, lastAgent time.Time
	lastVisitor           time.Time
	events                []seededEvent
	tokenHash             []byte
	pageURL               string
	csat                  int
	thumb                 string
	rated                 bool
	ratedAt               time.Time
}

type seededEvent struct {
	at                   time.Time
	authorKind, authorID string
	authorName           string
	message              bool
	body, systemKind     string
	withAgent, withUnit  bool
}

// seedStored provisions the search tenant and fills it with o.Stored conversations
// through COPY as the schema owner, then has the real search indexer index them all.
func (e *environment) seedStored(ctx context.Context, res *Search) (*storedTenant, error) {
	o := e.o
	name := "supbench-search-" + randomSuffix()
	cfg := &provision.Config{Tenants: []v1alpha1.Tenant{{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.TenantSpec{DisplayName: "Switchboard search bench"}}}}
	for _, u := range searchUnits {
		cfg.BusinessUnits = append(cfg.BusinessUnits, v1alpha1.BusinessUnit{ObjectMeta: metav1.ObjectMeta{Name: u, Namespace: name},
			Spec: v1alpha1.BusinessUnitSpec{Supervisors: []v1alpha1.Supervisor{{Name: auditor, Permissions: []v1alpha1.Permission{v1alpha1.PermissionAllChats}}}}})
	}
	for i := range len(searchUnits) * agentsPerUnit {
		cfg.AgentCapacities = append(cfg.AgentCapacities, v1alpha1.AgentCapacity{ObjectMeta: metav1.ObjectMeta{Name: agentName(i), Namespace: name},
			Spec: v1alpha1.AgentCapacitySpec{Agent: agentName(i), BusinessUnits: []string{searchUnits[i/agentsPerUnit]}, MaxConversations: agentCapacity}})
	}
	applied, err := provision.Apply(ctx, e.owner, cfg)
	if err != nil {
		return nil, fmt.Errorf("provisioning tenant %s: %w", name, err)
	}
	if err := provision.DemoAccounts(ctx, e.owner, applied, e.passwordHash); err != nil {
		return nil, fmt.Errorf("creating the accounts: %w", err)
	}
	st := &storedTenant{applied: applied[0], now: time.Now().UTC().Truncate(time.Second)}
	for _, u := range searchUnits {
		var id uuid.UUID
		if err := e.owner.QueryRow(ctx, `SELECT unit_id FROM business_units WHERE tenant_id = $1 AND name = $2`, st.applied.ID, u).Scan(&id); err != nil {
			return st, fmt.Errorf("reading unit %s: %w", u, err)
		}
		st.units = append(st.units, id)
	}
	for i := range len(searchUnits) * agentsPerUnit {
		var id uuid.UUID
		if err := e.owner.QueryRow(ctx, `SELECT agent_id FROM agents WHERE tenant_id = $1 AND name = $2`, st.applied.ID, agentName(i)).Scan(&id); err != nil {
			return st, fmt.Errorf("reading agent %s: %w", agentName(i), err)
		}
		st.agents = append(st.agents, id)
	}
	st.created = make([]time.Time, o.Stored)
	for i := range st.created {
		st.created[i] = st.createdAt(i, o.Stored)
	}

	o.Logf("supervision bench: seeding %d conversations (1 in %d open) with COPY", o.Stored, openShare)
	start := time.Now()
	if err := pgx.BeginFunc(ctx, e.owner, func(tx pgx.Tx) error { return st.copyAll(ctx, tx, o.Seed, &res.Events, &res.Ratings) }); err != nil {
		return st, fmt.Errorf("seeding conversations: %w", err)
	}
	res.Stored, res.Open = o.Stored, (o.Stored+openShare-1)/openShare
	res.SeedSeconds = time.Since(start).Seconds()

	o.Logf("supervision bench: the search indexer indexes the seeded conversations")
	start = time.Now()
	if err := e.indexAll(ctx, st.applied.ID); err != nil {
		return st, err
	}
	res.IndexSeconds = time.Since(start).Seconds()
	start = time.Now()
	// A database that has been running holds statistics for its tables; a fresh COPY of
	// this size waits for autovacuum, so gather them now.
	if _, err := e.owner.Exec(ctx, `VACUUM ANALYZE visitors, conversations, events, ratings, conversation_search, agents`); err != nil {
		return st, fmt.Errorf("vacuuming the seeded tables: %w", err)
	}
	res.VacuumSeconds = time.Since(start).Seconds()
	return st, nil
}

// createdAt is when the i-th newest of n stored conversations started: the open ones in
// the last hours, the closed ones spread evenly over the year before.
func (st *storedTenant) createdAt(i, n int) time.Time {
	open := (n + openShare - 1) / openShare
	if i < open {
		return st.now.Add(-time.Minute - time.Duration(i)*20*time.Second)
	}
	step := storedSpan / time.Duration(n-open)
	return st.now.Add(-6*time.Hour - time.Duration(i-open)*step)
}

// copyAll writes the visitors, conversations, events and ratings, then sets the agents'
// open counts to their open seeded conversations.
func (st *storedTenant) copyAll(ctx context.Context, tx pgx.Tx, seed uint64, events, ratings *int) error {
	n := len(st.created)
	tenant := st.applied.ID
	each := func(table string, columns []string, rows func(c *seededConversation, add func(...any))) error {
		i := 0
		var pending [][]any
		src := pgx.CopyFromFunc(func() ([]any, error) {
			for len(pending) == 0 {
				if i == n {
					return nil, nil
				}
				c := st.generate(seed, i)
				i++
				rows(c, func(v ...any) { pending = append(pending, v) })
			}
			row := pending[0]
			pending = pending[1:]
			return row, nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, columns, src); err != nil {
			return fmt.Errorf("copying %s: %w", table, err)
		}
		return nil
	}
	if err := each("visitors", []string{"tenant_id", "visitor_id", "name", "created_at"}, func(c *seededConversation, add func(...any)) {
		add(tenant, c.visitor, c.visitorName, c.created)
	}); err != nil {
		return err
	}
	if err := each("conversations", []string{"tenant_id", "conversation_id", "unit_id", "visitor_id", "agent_id", "state", "visitor_token_hash",
		"page_url", "last_seq", "created_at", "queued_at", "assigned_at", "accepted_at", "closed_at", "last_activity_at",
		"last_visitor_message_at", "last_agent_message_at", "first_agent_message_at"}, func(c *seededConversation, add func(...any)) {
		state, closed := "closed", &c.closed
		if c.open {
			state, closed = "active", nil
		}
		add(tenant, c.id, st.units[c.unit], c.visitor, st.agents[c.agent], state, c.tokenHash, c.pageURL, int64(len(c.events)),
			c.created, c.created, c.created.Add(time.Second), c.created.Add(4*time.Second), closed, c.lastActivity,
			c.lastVisitor, c.lastAgent, c.firstAgent)
	}); err != nil {
		return err
	}
	if err := each("events", []string{"tenant_id", "conversation_id", "seq", "created_at", "author_kind", "author_id", "author_name",
		"kind", "visibility", "client_message_id", "body", "system_kind", "agent_name", "unit_name"}, func(c *seededConversation, add func(...any)) {
		for j, ev := range c.events {
			kind, clientID, systemKind := "system", (*string)(nil), &ev.systemKind
			if ev.message {
				id := fmt.Sprintf("seed-%d", j+1)
				kind, clientID, systemKind = "message", &id, nil
			}
			agent, unit := "", ""
			if ev.withAgent {
				agent = agentName(c.agent)
			}
			if ev.withUnit {
				unit = searchUnits[c.unit]
			}
			add(tenant, c.id, int64(j+1), ev.at, ev.authorKind, ev.authorID, ev.authorName, kind, "all", clientID, ev.body, systemKind, agent, unit)
			*events++
		}
	}); err != nil {
		return err
	}
	if err := each("ratings", []string{"tenant_id", "conversation_id", "thumb", "csat", "rated_at"}, func(c *seededConversation, add func(...any)) {
		if !c.rated {
			return
		}
		var thumb *string
		if c.thumb != "" {
			thumb = &c.thumb
		}
		var csat *int16
		if c.csat > 0 {
			v := int16(c.csat)
			csat = &v
		}
		add(tenant, c.id, thumb, csat, c.ratedAt)
		*ratings++
	}); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE agents a SET open_count = o.n
		FROM (SELECT agent_id, count(*) AS n FROM conversations WHERE tenant_id = $1 AND state IN ('assigned', 'active') GROUP BY agent_id) o
		WHERE a.tenant_id = $1 AND a.agent_id = o.agent_id`, tenant)
	return err
}

// indexAll runs the search indexer until no seeded conversation waits for it. The
// server's own indexer runs beside it; whichever holds the tenant's lock does a pass.
func (e *environment) indexAll(ctx context.Context, tenant uuid.UUID) error {
	ix := search.NewIndexer(e.srv.DB, sentiment.Lexicon{})
	deadline := time.Now().Add(indexTimeout)
	for {
		if _, err := ix.IndexOnce(ctx); err != nil {
			return fmt.Errorf("indexing: %w", err)
		}
		var pending int
		if err := e.owner.QueryRow(ctx, `SELECT count(*) FROM conversations c
			LEFT JOIN conversation_search s ON s.tenant_id = c.tenant_id AND s.conversation_id = c.conversation_id
			WHERE c.tenant_id = $1 AND c.last_seq > coalesce(s.indexed_seq, 0)`, tenant).Scan(&pending); err != nil {
			return fmt.Errorf("counting unindexed conversations: %w", err)
		}
		if pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d conversations still unindexed after %s", pending, indexTimeout)
		}
		if !sleepUntil(ctx, e, e.now()+int64(50*time.Millisecond)) {
			return ctx.Err()
		}
	}
}

// The words of the seeded chats.
var (
	products  = []string{"jacket", "raincoat", "sneakers", "boots", "backpack", "headphones", "kettle", "blender", "desk lamp", "office chair", "monitor", "keyboard", "mattress", "duvet", "scarf", "umbrella", "watch", "phone case", "charger", "coffee grinder"}
	colors    = []string{"blue", "red", "black", "green", "grey", "white", "navy", "beige"}
	countries = []string{"Norway", "Switzerland", "Canada", "Ireland", "Portugal", "Poland", "Japan", "Iceland"}
	weekdays  = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
	codes     = []string{"SPRING20", "WELCOME10", "FREESHIP", "LOYAL15", "STUDENT10"}
	firsts    = []string{"Anna", "Ben", "Chloe", "David", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kate", "Liam", "Maya", "Noah", "Olga", "Pablo", "Rosa", "Sam", "Tara", "Yusuf"}
)

// topics are a visitor's opening and the agent's answer; %[1]s product, %[2]s color,
// %[3]s order number, %[4]d amount, %[5]s country, %[6]s code, %[7]s weekday.
var topics = [][2]string{
	{"Hi, I ordered a %[2]s %[1]s last %[7]s and it has still not arrived. The order number is %[3]s.",
		"Thanks for waiting, I have checked order %[3]s: the %[1]s left our warehouse yesterday and the courier delivers it within two days."},
	{"The %[1]s from order %[3]s arrived damaged, the box was crushed and it does not work.",
		"I am sorry about that. I have arranged a free replacement %[1]s and emailed you a return label for the damaged one."},
	{"I returned the %[2]s %[1]s two weeks ago and I am still waiting for my refund on order %[3]s.",
		"I can see the return arrived. The refund of %[4]d euros was issued today and should reach your card within five days."},
	{"Can I change the delivery address for order %[3]s? I moved last week.",
		"Yes, I have updated the delivery address on order %[3]s; the parcel has not left yet."},
	{"My discount code %[6]s is not working at checkout for the %[1]s.",
		"That code expired on Sunday, but I have applied the same discount to your basket, you can check out now."},
	{"I was charged twice for order %[3]s, %[4]d euros each time.",
		"The second payment is a pre-authorisation from the bank and will be released automatically within three days."},
	{"Does the %[2]s %[1]s run small? I usually take a medium.",
		"It runs a little small, so I would suggest a large. Exchanges are free within 30 days."},
	{"Do you ship to %[5]s, and how long does delivery take?",
		"We ship to %[5]s in five to seven business days, and delivery is free above 50 euros."},
	{"The tracking page for order %[3]s says delivered but there is nothing at my door.",
		"I have opened an investigation with the courier for order %[3]s; if it is not found within 48 hours we send a new one."},
	{"When will the %[2]s %[1]s be back in stock?",
		"The %[2]s %[1]s is expected back next week; I can email you as soon as it is available."},
}

// followUps are exchanges in the middle of a chat.
var followUps = [][2]string{
	{"Ok, and how long will that take?", "Usually two to three business days."},
	{"Can you send me a confirmation by email?", "Of course, I have just sent it to the address on your account."},
	{"Is there anything I need to do?", "No, everything is handled on our side."},
	{"Will I get a tracking number?", "Yes, you will receive it by email as soon as the parcel is scanned."},
}

// rareLines are added to a few visitors' openings: the rare words of the search phase.
var rareLines = []struct {
	per1000 int
	text    string
}{
	{1, "My bank says they will open a chargeback if this is not fixed."},
	{5, "Will I have to pay customs fees on delivery?"},
	{10, "Is it still under warranty?"},
}

// closings by mood: the visitor's last message.
var closings = map[string][]string{
	sentiment.Positive: {"Thanks, that was really helpful!", "Great, perfect, thank you so much.", "Awesome, problem solved, have a nice day."},
	sentiment.Neutral:  {"Ok, I will wait then.", "Alright, I will check again tomorrow.", "Understood, bye."},
	sentiment.Negative: {"This is unacceptable, I have been waiting for two weeks already.", "Terrible service, I want to cancel my order.", "I am really disappointed and frustrated with this."},
}

var agentClosings = []string{"You are welcome, have a good day.", "Is there anything else I can help you with?", "Thank you for your patience."}

// orderNumber is conversation i's order number, unique in the store.
func orderNumber(i int) string { return fmt.Sprintf("SB-%07d", 1_000_000+i) }

// generate makes the i-th newest stored conversation.
func (st *storedTenant) generate(seed uint64, i int) *seededConversation {
	rng := rand.New(rand.NewPCG(seed, 1<<32+uint64(i)))
	n := len(st.created)
	c := &seededConversation{
		id: randomUUID(rng), visitor: randomUUID(rng), created: st.created[i],
		open: i < (n+openShare-1)/openShare,
	}
	c.visitorName = firsts[rng.IntN(len(firsts))] + " " + string(rune('A'+rng.IntN(26))) + "."
	c.unit = rng.IntN(len(searchUnits))
	c.agent = c.unit*agentsPerUnit + rng.IntN(agentsPerUnit)
	c.tokenHash = make([]byte, 32)
	for j := 0; j < 32; j += 8 {
		binary.LittleEndian.PutUint64(c.tokenHash[j:], rng.Uint64())
	}
	product := products[rng.IntN(len(products))]
	c.pageURL = "https://shop.example.com/" + strings.ReplaceAll(product, " ", "-")
	mood := sentiment.Neutral
	switch r := rng.Float64(); {
	case r < 0.45:
		mood = sentiment.Positive
	case r >= 0.75:
		mood = sentiment.Negative
	}
	args := []any{product, colors[rng.IntN(len(colors))], orderNumber(i), 19 + rng.IntN(230),
		countries[rng.IntN(len(countries))], codes[rng.IntN(len(codes))], weekdays[rng.IntN(len(weekdays))]}
	topic := topics[rng.IntN(len(topics))]
	opening := fmt.Sprintf(topic[0], args...)
	for _, r := range rareLines {
		if rng.IntN(1000) < r.per1000 {
			opening += " " + r.text
		}
	}

	at := c.created
	visitorAuthor := func(ev seededEvent) seededEvent {
		ev.authorKind, ev.authorID, ev.authorName = store.AuthorVisitor, c.visitor.String(), c.visitorName
		return ev
	}
	agentAuthor := func(ev seededEvent) seededEvent {
		name := agentName(c.agent)
		ev.authorKind, ev.authorID, ev.authorName = store.AuthorAgent, name, strings.ToUpper(name[:1])+name[1:]
		return ev
	}
	add := func(ev seededEvent, after time.Duration) {
		at = at.Add(after)
		ev.at = at
		c.events = append(c.events, ev)
		if ev.message {
			if ev.authorKind == store.AuthorVisitor {
				c.lastVisitor = at
			} else {
				if c.firstAgent.IsZero() {
					c.firstAgent = at
				}
				c.lastAgent = at
			}
		}
		c.lastActivity = at
	}
	say := func(kind string, text string) {
		ev := seededEvent{message: true, body: text}
		if kind == store.AuthorVisitor {
			add(visitorAuthor(ev), time.Duration(20+rng.IntN(100))*time.Second)
		} else {
			add(agentAuthor(ev), time.Duration(15+rng.IntN(90))*time.Second)
		}
	}
	add(visitorAuthor(seededEvent{systemKind: store.SystemStarted, withUnit: true}), 0)
	add(seededEvent{authorKind: store.AuthorSystem, systemKind: store.SystemAssigned, withAgent: true, withUnit: true}, time.Second)
	add(agentAuthor(seededEvent{systemKind: store.SystemAccepted, withAgent: true, withUnit: true}), 3*time.Second)
	say(store.AuthorVisitor, opening)
	say(store.AuthorAgent, fmt.Sprintf(topic[1], args...))
	for range rng.IntN(3) {
		f := followUps[rng.IntN(len(followUps))]
		say(store.AuthorVisitor, f[0])
		say(store.AuthorAgent, f[1])
	}
	if c.open {
		return c
	}
	say(store.AuthorVisitor, closings[mood][rng.IntN(len(closings[mood]))])
	say(store.AuthorAgent, agentClosings[rng.IntN(len(agentClosings))])
	add(agentAuthor(seededEvent{systemKind: store.SystemClosed, withAgent: true, withUnit: true}), 30*time.Second)
	c.closed = at
	if rng.IntN(100) < 45 {
		c.rated, c.ratedAt = true, at.Add(20*time.Second)
		switch mood {
		case sentiment.Positive:
			c.csat = 4 + rng.IntN(2)
		case sentiment.Neutral:
			c.csat = 3 + rng.IntN(2)
		default:
			c.csat = 1 + rng.IntN(2)
		}
		if rng.IntN(100) < 60 {
			c.thumb = "up"
			if c.csat <= 2 || (c.csat == 3 && rng.IntN(2) == 0) {
				c.thumb = "down"
			}
		}
		if rng.IntN(100) < 10 {
			c.csat = 0 // a thumb only, or nothing but the comment-less rating
			if c.thumb == "" {
				c.thumb = "up"
			}
		}
		add(visitorAuthor(seededEvent{systemKind: store.SystemRated}), 20*time.Second)
	}
	return c
}

// randomUUID is a version 4 UUID from rng, so that seeded ids repeat with the seed.
func randomUUID(rng *rand.Rand) uuid.UUID {
	var u uuid.UUID
	binary.LittleEndian.PutUint64(u[:8], rng.Uint64())
	binary.LittleEndian.PutUint64(u[8:], rng.Uint64())
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}
