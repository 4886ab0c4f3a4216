package store_test

import (
	"testing"
	"time"

	"github.com/switchboard-chat/switchboard/services/store"
)

func TestBusinessHoursAreReadInTheUnitsTimeZone(t *testing.T) {
	weekdays := store.BusinessHours{TimeZone: "Europe/Paris", Weekly: []store.OpeningHours{
		{Days: []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}, Open: "09:00", Close: "18:00"},
		{Days: []string{"Saturday"}, Open: "10:00", Close: "24:00"},
	}}
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, c := range []struct {
		hours *store.BusinessHours
		at    string
		open  bool
	}{
		{&weekdays, "2026-11-23T08:30:00Z", true},  // Monday 09:30 in Paris
		{&weekdays, "2026-11-23T07:59:00Z", false}, // Monday 08:59 in Paris
		{&weekdays, "2026-11-23T17:00:00Z", false}, // Monday 18:00 in Paris: closed at 18:00
		{&weekdays, "2026-11-28T22:59:00Z", true},  // Saturday 23:59 in Paris, open until midnight
		{&weekdays, "2026-11-29T12:00:00Z", false}, // Sunday
		{nil, "2026-11-29T12:00:00Z", true},        // no hours: always open
		{&store.BusinessHours{TimeZone: "Mars/Olympus"}, "2026-11-29T12:00:00Z", true},
	} {
		if got := c.hours.OpenAt(at(c.at)); got != c.open {
			t.Errorf("%+v at %s: open %v, want %v", c.hours, c.at, got, c.open)
		}
	}
	if err := (&store.BusinessHours{TimeZone: "Mars/Olympus"}).Check(); err == nil {
		t.Error("an unknown time zone passes Check")
	}
}
