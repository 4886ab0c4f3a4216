package limits

import "time"

// SetClock has the limiter read the time from now, so that tests move time on instead of
// waiting for buckets to refill.
func (l *Limiter) SetClock(now func() time.Time) { l.clock.Store(&now) }
