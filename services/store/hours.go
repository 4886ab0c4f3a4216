package store

import (
	"fmt"
	"time"
)

// BusinessHours are a unit's opening hours in its time zone.
type BusinessHours struct {
	TimeZone string         `json:"timeZone"`
	Weekly   []OpeningHours `json:"weekly"`
}

// OpeningHours are the hours of some days of the week, "HH:MM" in 24-hour time; Close may
// be "24:00".
type OpeningHours struct {
	Days  []string `json:"days"`
	Open  string   `json:"open"`
	Close string   `json:"close"`
}

// Check reports a time zone the system does not know, or a malformed time.
func (h *BusinessHours) Check() error {
	if _, err := time.LoadLocation(h.TimeZone); err != nil {
		return fmt.Errorf("time zone %q is not known: %w", h.TimeZone, err)
	}
	for _, w := range h.Weekly {
		for _, s := range []string{w.Open, w.Close} {
			if _, err := minutes(s); err != nil {
				return err
			}
		}
	}
	return nil
}

// OpenAt reports whether the unit is open at t. Hours that cannot be read count as open,
// so that a mistake never turns every visitor away; Check reports them.
func (h *BusinessHours) OpenAt(t time.Time) bool {
	if h == nil {
		return true
	}
	loc, err := time.LoadLocation(h.TimeZone)
	if err != nil {
		return true
	}
	local := t.In(loc)
	now := local.Hour()*60 + local.Minute()
	day := local.Weekday().String()
	for _, w := range h.Weekly {
		open, err1 := minutes(w.Open)
		closing, err2 := minutes(w.Close)
		if err1 != nil || err2 != nil {
			return true
		}
		for _, d := range w.Days {
			if d == day && now >= open && now < closing {
				return true
			}
		}
	}
	return false
}

func minutes(hhmm string) (int, error) {
	var h, m int
	if _, err := fmt.Sscanf(hhmm, "%d:%d", &h, &m); err != nil || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not a time like 09:30", hhmm)
	}
	return h*60 + m, nil
}
