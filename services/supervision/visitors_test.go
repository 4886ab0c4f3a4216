package supervision_test

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"connectrpc.com/connect"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1/chatv1connect"
	supervisionv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1"
	"github.com/switchboard-chat/switchboard/api/proto/switchboard/supervision/v1/supervisionv1connect"
	"github.com/switchboard-chat/switchboard/services/chat"
	"github.com/switchboard-chat/switchboard/services/server"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

const (
	firefoxOnWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0"
	safariOnIPhone   = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

// browser is a widget's HTTP: every request carries the browser's User-Agent and the
// country header a proxy in front would add (or a visitor would forge).
type browser struct {
	userAgent, country string
}

func (b *browser) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("User-Agent", b.userAgent)
	if b.country != "" {
		req.Header.Set("CF-IPCountry", b.country)
	}
	return http.DefaultTransport.RoundTrip(req)
}

func widget(base string, b *browser) chatv1connect.ChatServiceClient {
	return chatv1connect.NewChatServiceClient(&http.Client{Transport: b}, base, connect.WithProtoJSON())
}

func track(t *testing.T, w chatv1connect.ChatServiceClient, widgetKey, key, url, title string) *chatv1.TrackPageViewResponse {
	t.Helper()
	res, err := w.TrackPageView(context.Background(), connect.NewRequest(&chatv1.TrackPageViewRequest{
		WidgetKey: widgetKey, VisitorKey: key, PageUrl: url, PageTitle: title, Referrer: "https://search.example/?q=acme"}))
	if err != nil {
		t.Fatalf("page view of %s: %v", url, err)
	}
	return res.Msg
}

func getVisitor(t *testing.T, c supervisionv1connect.SupervisionServiceClient, id string) *supervisionv1.GetVisitorResponse {
	t.Helper()
	res, err := c.GetVisitor(context.Background(), connect.NewRequest(&supervisionv1.GetVisitorRequest{VisitorId: id}))
	if err != nil {
		t.Fatalf("GetVisitor: %v", err)
	}
	return res.Msg
}

// TestAVisitorIsRecognisedOnTheNextVisit follows one visitor over two visits from two
// devices, behind a trusted proxy that names the country: the supervisor sees both
// visits, the pages, the parsed user agents, and one profile across both conversations.
func TestAVisitorIsRecognisedOnTheNextVisit(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := context.Background()
	agentOnline(t, env, "acme", "ann")
	behindProxy := env.StartReplica(t, server.Config{Proxies: chat.Proxies{
		CountryHeader: "CF-IPCountry", Trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}})
	acme := env.Tenants["acme"].WidgetKey
	sam := env.Supervision(env.Login(t, "acme", "sam"))

	// First visit, on a desktop in France.
	desktop := widget(behindProxy.Base, &browser{userAgent: firefoxOnWindows, country: "fr"})
	first := track(t, desktop, acme, "", "https://Shop.acme.example/", "Acme shop")
	if first.Recognised || !strings.HasPrefix(first.VisitorKey, "sbk.") || first.VisitorName != "" {
		t.Fatalf("a first page view: %+v; want a new key, not recognised, no name", first)
	}
	key := first.VisitorKey
	if again := track(t, desktop, acme, key, "https://shop.acme.example/pricing", "Pricing"); !again.Recognised || again.VisitorKey != key {
		t.Fatalf("the second page of the visit: %+v; want the same key, recognised", again)
	}
	started, err := desktop.StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{
		WidgetKey: acme, BusinessUnit: "sales", VisitorName: "Vera", VisitorEmail: "vera@example.com",
		PageUrl: "https://shop.acme.example/pricing", VisitorKey: key,
		FirstMessage: &chatv1.Message{ClientMessageId: "1", Text: "how much is it?"}}))
	if err != nil {
		t.Fatal(err)
	}
	if started.Msg.VisitorKey != key {
		t.Fatalf("StartConversation handed out key %q; want the visitor's own", started.Msg.VisitorKey)
	}
	visitorID := started.Msg.Conversation.VisitorId

	v := getVisitor(t, sam, visitorID)
	if v.Visitor.Visits != 1 || v.Visitor.FirstVisitAt == nil || !v.Visitor.IsContact ||
		v.Visitor.Profile.Name != "Vera" || v.Visitor.Profile.Email != "vera@example.com" {
		t.Fatalf("after one visit: %+v", v.Visitor)
	}
	if len(v.Sessions) != 1 {
		t.Fatalf("sessions: %+v; want one visit", v.Sessions)
	}
	s := v.Sessions[0]
	if s.Site != "https://shop.acme.example" || s.Os != "Windows" || s.OsVersion != "10" || s.Browser != "Firefox" ||
		!strings.HasPrefix(s.BrowserVersion, "132") || s.Device != "desktop" || s.Country != "FR" || s.UserAgent != firefoxOnWindows ||
		s.Referrer != "https://search.example/?q=acme" {
		t.Fatalf("the visit as the supervisor sees it: %+v", s)
	}
	if s.PageViewCount != 2 || len(s.PageViews) != 2 || s.PageViews[0].Title != "Acme shop" || s.PageViews[1].Url != "https://shop.acme.example/pricing" {
		t.Fatalf("pages of the visit: %d %+v; want the shop, then pricing", s.PageViewCount, s.PageViews)
	}
	if len(v.Conversations) != 1 || v.Conversations[0].Id != started.Msg.Conversation.Id {
		t.Fatalf("conversations: %+v", v.Conversations)
	}

	// The supervisor completes the profile.
	if _, err := sam.UpdateContact(ctx, connect.NewRequest(&supervisionv1.UpdateContactRequest{VisitorId: visitorID,
		Profile: &supervisionv1.VisitorProfile{Name: "Vera Lynn", Email: "vera@example.com", Phone: "+33 1 23 45 67 89", Notes: "asks about volume prices"}})); err != nil {
		t.Fatal(err)
	}

	// Half an hour later the visit is over; the visitor comes back on a phone with the same key.
	if _, err := env.Owner.Exec(ctx, `UPDATE visitor_sessions SET started_at = started_at - interval '1 hour',
		last_seen_at = last_seen_at - interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	phone := widget(behindProxy.Base, &browser{userAgent: safariOnIPhone, country: "BE"})
	back := track(t, phone, acme, key, "https://shop.acme.example/", "Acme shop")
	if !back.Recognised || back.VisitorName != "Vera Lynn" {
		t.Fatalf("the next visit: %+v; want the visitor recognised and greeted by name", back)
	}
	second, err := phone.StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{
		WidgetKey: acme, BusinessUnit: "sales", VisitorName: "V", VisitorKey: key, PageUrl: "https://shop.acme.example/"}))
	if err != nil {
		t.Fatal(err)
	}
	if c := second.Msg.Conversation; c.VisitorId != visitorID || c.VisitorName != "Vera Lynn" {
		t.Fatalf("the second conversation is of visitor %s named %q; want %s, the profile's name", c.VisitorId, c.VisitorName, visitorID)
	}
	v = getVisitor(t, sam, visitorID)
	if v.Visitor.Visits != 2 || len(v.Sessions) != 2 || len(v.Conversations) != 2 {
		t.Fatalf("after two visits: visits %d, sessions %d, conversations %d", v.Visitor.Visits, len(v.Sessions), len(v.Conversations))
	}
	if s := v.Sessions[0]; s.Os != "iOS" || s.Browser != "Safari" || s.Device != "mobile" || s.Country != "BE" || s.PageViewCount != 1 {
		t.Fatalf("the newest visit: %+v", s)
	}
	if p := v.Visitor.Profile; p.Name != "Vera Lynn" || p.Phone != "+33 1 23 45 67 89" || p.Notes != "asks about volume prices" {
		t.Fatalf("the visitor's own name at the second start overwrote the profile: %+v", p)
	}
	if v.Conversations[0].Id != second.Msg.Conversation.Id {
		t.Fatalf("conversations are not newest first: %+v", v.Conversations)
	}

	t.Run("a key is only good in its own tenant", func(t *testing.T) {
		globex := track(t, widget(env.Base, &browser{userAgent: firefoxOnWindows}), env.Tenants["globex"].WidgetKey, key, "https://globex.example/", "Globex")
		if globex.Recognised || globex.VisitorKey == key || globex.VisitorName != "" {
			t.Fatalf("acme's visitor key at globex: %+v; want a stranger", globex)
		}
	})
	t.Run("a country header is believed only from a trusted proxy", func(t *testing.T) {
		direct := widget(env.Base, &browser{userAgent: firefoxOnWindows, country: "FR"})
		res := track(t, direct, acme, "", "https://shop.acme.example/", "Acme shop")
		forged, err := direct.StartConversation(ctx, connect.NewRequest(&chatv1.StartConversationRequest{
			WidgetKey: acme, BusinessUnit: "sales", VisitorKey: res.VisitorKey}))
		if err != nil {
			t.Fatal(err)
		}
		if c := getVisitor(t, sam, forged.Msg.Conversation.VisitorId).Sessions[0].Country; c != "" {
			t.Fatalf("a visitor talking to the service directly chose its country: %q", c)
		}
	})
	t.Run("bad input is refused, naming the field", func(t *testing.T) {
		for _, c := range []struct {
			req   *chatv1.TrackPageViewRequest
			field string
		}{
			{&chatv1.TrackPageViewRequest{WidgetKey: acme}, "page_url"},
			{&chatv1.TrackPageViewRequest{WidgetKey: acme, PageUrl: "javascript:alert(1)"}, "page_url"},
			{&chatv1.TrackPageViewRequest{WidgetKey: acme, PageUrl: "/relative"}, "page_url"},
			{&chatv1.TrackPageViewRequest{WidgetKey: acme, PageUrl: "https://a.example/", Referrer: "ftp://x"}, "referrer"},
			{&chatv1.TrackPageViewRequest{WidgetKey: acme, PageUrl: "https://a.example/", PageTitle: strings.Repeat("t", 501)}, "page_title"},
			{&chatv1.TrackPageViewRequest{WidgetKey: acme, PageUrl: "https://a.example/", VisitorKey: "sbs.stolen-staff-token"}, "visitor_key"},
		} {
			_, err := desktop.TrackPageView(ctx, connect.NewRequest(c.req))
			if testenv.Code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), c.field) {
				t.Errorf("%+v: %v; want InvalidArgument naming %s", c.req, err, c.field)
			}
		}
		if _, err := desktop.TrackPageView(ctx, connect.NewRequest(&chatv1.TrackPageViewRequest{WidgetKey: "wk-guess", PageUrl: "https://a.example/"})); testenv.Code(err) != connect.CodeNotFound && testenv.Code(err) != connect.CodePermissionDenied && testenv.Code(err) != connect.CodeUnauthenticated {
			t.Errorf("an unknown widget key: %v", err)
		}
	})
}

// TestContactsAreListedCreatedUpdatedAndDeleted drives the contacts list the way a
// supervisor's console does.
func TestContactsAreListedCreatedUpdatedAndDeleted(t *testing.T) {
	env := testenv.Start(t, cluster, config)
	ctx := context.Background()
	agentOnline(t, env, "acme", "ann")
	sam := env.Supervision(env.Login(t, "acme", "sam"))
	create := func(p *supervisionv1.VisitorProfile) *supervisionv1.Visitor {
		t.Helper()
		res, err := sam.CreateContact(ctx, connect.NewRequest(&supervisionv1.CreateContactRequest{Profile: p}))
		if err != nil {
			t.Fatalf("creating %v: %v", p, err)
		}
		return res.Msg.Contact
	}
	zed := create(&supervisionv1.VisitorProfile{Name: "Zed", Email: "zed@example.com"})
	create(&supervisionv1.VisitorProfile{Name: "alice", Phone: "+1 (555) 010-2000"})
	create(&supervisionv1.VisitorProfile{Name: "Bob", Email: "bob@corp.example", Notes: "100% reseller"})
	create(&supervisionv1.VisitorProfile{Email: "anonymous@example.com"})
	chatting, _, _ := visitorStart(t, env, "sales") // Vera, a visitor who gave her name
	if zed.Visits != 0 || zed.FirstVisitAt != nil || !zed.IsContact {
		t.Fatalf("a contact entered by hand: %+v", zed)
	}

	list := func(query string, limit int32) []string {
		t.Helper()
		var names []string
		token := ""
		for range 20 {
			res, err := sam.ListContacts(ctx, connect.NewRequest(&supervisionv1.ListContactsRequest{Query: query, PageToken: token, Limit: limit}))
			if err != nil {
				t.Fatalf("listing %q: %v", query, err)
			}
			for _, c := range res.Msg.Contacts {
				names = append(names, c.Profile.Name+"<"+c.Profile.Email+">")
			}
			if token = res.Msg.NextPageToken; token == "" {
				return names
			}
		}
		t.Fatal("paging never ends")
		return nil
	}
	want := "<anonymous@example.com> alice<> Bob<bob@corp.example> Vera<> Zed<zed@example.com>"
	if got := strings.Join(list("", 2), " "); got != want {
		t.Fatalf("contacts two at a time:\n got %s\nwant %s", got, want)
	}
	for query, want := range map[string]string{
		"EXAMPLE.COM": "<anonymous@example.com> Zed<zed@example.com>",
		"555":         "alice<>",
		"%":           "",
		"ver":         "Vera<>",
	} {
		if got := strings.Join(list(query, 100), " "); got != want {
			t.Errorf("query %q: got %q, want %q", query, got, want)
		}
	}

	t.Run("bad profiles are refused and change nothing", func(t *testing.T) {
		before := strings.Join(list("", 100), " ")
		for _, c := range []struct {
			p     *supervisionv1.VisitorProfile
			field string
		}{
			{nil, "profile"},
			{&supervisionv1.VisitorProfile{Notes: "only notes"}, "profile"},
			{&supervisionv1.VisitorProfile{Name: "X", Email: "not-an-address"}, "profile.email"},
			{&supervisionv1.VisitorProfile{Name: "X", Phone: "call me maybe"}, "profile.phone"},
			{&supervisionv1.VisitorProfile{Name: strings.Repeat("n", 201)}, "profile.name"},
			{&supervisionv1.VisitorProfile{Name: "X", Notes: strings.Repeat("n", 10001)}, "profile.notes"},
		} {
			_, err := sam.CreateContact(ctx, connect.NewRequest(&supervisionv1.CreateContactRequest{Profile: c.p}))
			if testenv.Code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), c.field) {
				t.Errorf("creating %v: %v; want InvalidArgument naming %s", c.p, err, c.field)
			}
			_, err = sam.UpdateContact(ctx, connect.NewRequest(&supervisionv1.UpdateContactRequest{VisitorId: zed.Id, Profile: c.p}))
			if testenv.Code(err) != connect.CodeInvalidArgument {
				t.Errorf("updating to %v: %v; want InvalidArgument", c.p, err)
			}
		}
		_, err := sam.UpdateContact(ctx, connect.NewRequest(&supervisionv1.UpdateContactRequest{VisitorId: "00000000-0000-4000-8000-000000000000",
			Profile: &supervisionv1.VisitorProfile{Name: "Ghost"}}))
		if testenv.Code(err) != connect.CodeNotFound {
			t.Errorf("updating a contact that does not exist: %v", err)
		}
		if after := strings.Join(list("", 100), " "); after != before {
			t.Fatalf("refused changes changed the contacts:\n%s\n%s", before, after)
		}
	})

	t.Run("update replaces the profile", func(t *testing.T) {
		res, err := sam.UpdateContact(ctx, connect.NewRequest(&supervisionv1.UpdateContactRequest{VisitorId: zed.Id,
			Profile: &supervisionv1.VisitorProfile{Name: "Zed Zee", Phone: "+44 20 7946 0000"}}))
		if err != nil {
			t.Fatal(err)
		}
		if p := res.Msg.Contact.Profile; p.Name != "Zed Zee" || p.Email != "" || p.Phone != "+44 20 7946 0000" ||
			!res.Msg.Contact.UpdatedAt.AsTime().After(zed.UpdatedAt.AsTime()) {
			t.Fatalf("after the update: %+v", res.Msg.Contact)
		}
	})

	t.Run("delete removes a hand-made contact and anonymises a visitor", func(t *testing.T) {
		if _, err := sam.DeleteContact(ctx, connect.NewRequest(&supervisionv1.DeleteContactRequest{VisitorId: zed.Id})); err != nil {
			t.Fatal(err)
		}
		if _, err := sam.GetVisitor(ctx, connect.NewRequest(&supervisionv1.GetVisitorRequest{VisitorId: zed.Id})); testenv.Code(err) != connect.CodeNotFound {
			t.Fatalf("a deleted hand-made contact: %v; want NotFound", err)
		}
		if _, err := sam.DeleteContact(ctx, connect.NewRequest(&supervisionv1.DeleteContactRequest{VisitorId: chatting.VisitorId})); err != nil {
			t.Fatal(err)
		}
		v := getVisitor(t, sam, chatting.VisitorId)
		if v.Visitor.IsContact || v.Visitor.Profile.Name != "" || len(v.Conversations) != 1 {
			t.Fatalf("a deleted contact who chatted: %+v with %d conversations; want anonymous, history kept", v.Visitor, len(v.Conversations))
		}
		if _, err := sam.DeleteContact(ctx, connect.NewRequest(&supervisionv1.DeleteContactRequest{VisitorId: chatting.VisitorId})); testenv.Code(err) != connect.CodeNotFound {
			t.Fatalf("deleting again: %v; want NotFound", err)
		}
		if got := strings.Join(list("", 100), " "); got != "<anonymous@example.com> alice<> Bob<bob@corp.example>" {
			t.Fatalf("contacts after the deletes: %s", got)
		}
	})

	t.Run("another tenant sees none of it", func(t *testing.T) {
		gina := env.Supervision(env.Login(t, "globex", "gina"))
		res, err := gina.ListContacts(ctx, connect.NewRequest(&supervisionv1.ListContactsRequest{}))
		if err != nil || len(res.Msg.Contacts) != 0 {
			t.Fatalf("globex's contacts: %v, %v; want none", res, err)
		}
	})

	t.Run("a supervisor without AllChats sees the visitors of its units' chats only", func(t *testing.T) {
		sue := env.Supervision(env.Login(t, "acme", "sue"))
		agentOnline(t, env, "acme", "cat")
		support, _, _ := visitorStart(t, env, "support")
		v := getVisitor(t, sue, support.VisitorId)
		if len(v.Conversations) != 1 || v.Conversations[0].BusinessUnit != "support" {
			t.Fatalf("sue's view of a support visitor: %+v", v.Conversations)
		}
	})

	t.Run("every change is in the audit log", func(t *testing.T) {
		admin := env.Supervision(env.Login(t, "acme", "admin"))
		res, err := admin.ListAuditLog(ctx, connect.NewRequest(&supervisionv1.ListAuditLogRequest{}))
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int{}
		for _, e := range res.Msg.Entries {
			if e.Actor == "sam" && strings.HasPrefix(e.Action, "contact.") && strings.HasPrefix(e.Detail, "visitor ") {
				counts[e.Action]++
			}
		}
		if counts["contact.create"] != 4 || counts["contact.update"] != 1 || counts["contact.delete"] != 2 {
			t.Fatalf("contact changes in the audit log: %v", counts)
		}
	})
}
