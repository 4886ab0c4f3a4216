package chat_test

import (
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	chatv1 "github.com/switchboard-chat/switchboard/api/proto/switchboard/chat/v1"
	"github.com/switchboard-chat/switchboard/services/testenv"
)

// TestOutsideBusinessHoursVisitorsLeaveMessages declares opening hours that exclude today:
// with an agent online, the widget hears the unit is closed, a first message is kept as an
// offline message, and a start without one is refused with the reason.
func TestOutsideBusinessHoursVisitorsLeaveMessages(t *testing.T) {
	today := time.Now().UTC().Weekday()
	var days []string
	for d := time.Sunday; d <= time.Saturday; d++ {
		if d != today && d != (today+1)%7 && d != (today+6)%7 {
			days = append(days, d.String())
		}
	}
	closed := strings.Replace(config, "spec: {displayName: Sales, offlineMessages: true}",
		`spec: {displayName: Sales, offlineMessages: true, businessHours: {timeZone: UTC, weekly: [{days: [`+strings.Join(days, ", ")+`], open: "00:00", close: "24:00"}]}}`, 1)
	env := testenv.Start(t, cluster, closed)
	online(t, env, "acme", "ann") // sales
	key := env.Tenants["acme"].WidgetKey
	anon := env.Chat("")

	avail, err := anon.GetAvailability(ctxT(t), connect.NewRequest(&chatv1.GetAvailabilityRequest{WidgetKey: key, BusinessUnit: "sales"}))
	if err != nil {
		t.Fatal(err)
	}
	if avail.Msg.Open || avail.Msg.AgentsOnline || !avail.Msg.AcceptsOfflineMessages {
		t.Fatalf("availability outside the hours: %+v; want closed, nobody to chat with, offline messages taken", avail.Msg)
	}
	res, err := anon.StartConversation(ctxT(t), connect.NewRequest(&chatv1.StartConversationRequest{WidgetKey: key, BusinessUnit: "sales",
		VisitorEmail: "vic@example.com", FirstMessage: &chatv1.Message{ClientMessageId: "1", Text: "are you open tomorrow?"}}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Msg.Conversation != nil || res.Msg.OfflineMessageId == "" {
		t.Fatalf("a start outside the hours: %+v; want an offline message kept", res.Msg)
	}
	_, err = anon.StartConversation(ctxT(t), connect.NewRequest(&chatv1.StartConversationRequest{WidgetKey: key, BusinessUnit: "sales"}))
	if testenv.Code(err) != connect.CodeUnavailable || !strings.Contains(err.Error(), "business hours") {
		t.Fatalf("a start without a message outside the hours: %v; want Unavailable naming the business hours", err)
	}
}
