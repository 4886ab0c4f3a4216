package limits

import (
	"math"
	"sync"
	"time"

	xrate "golang.org/x/time/rate"
)

// maxBuckets bounds the keys one kind of limit remembers. A bucket that has refilled is
// the same as none, so sweeps forget those first; only some 100,000 keys active at once
// (addresses of a large botnet) would make a kind forget everything and start over.
const maxBuckets = 100_000

// buckets are the token buckets of one kind of limit, by key.
type buckets[K comparable] struct {
	mu sync.Mutex
	m  map[K]*bucket
}

type bucket struct {
	lim *xrate.Limiter
	r   rate
	// last is when the bucket was last taken from; once it has had time to refill, it can
	// be forgotten.
	last time.Time
}

// reserve takes a token from key's bucket, made or adjusted to r.
func (b *buckets[K]) reserve(key K, r rate, now time.Time) *xrate.Reservation {
	b.mu.Lock()
	if b.m == nil {
		b.m = map[K]*bucket{}
	}
	bk := b.m[key]
	if bk == nil {
		if len(b.m) >= maxBuckets {
			b.sweepLocked(now)
			if len(b.m) >= maxBuckets {
				clear(b.m)
			}
		}
		bk = &bucket{lim: xrate.NewLimiter(limitOf(r), r.n), r: r}
		b.m[key] = bk
	}
	if bk.r != r {
		// The tenant's limits changed: keep what the bucket holds, at the new pace.
		bk.lim.SetLimitAt(now, limitOf(r))
		bk.lim.SetBurstAt(now, r.n)
		bk.r = r
	}
	bk.last = now
	b.mu.Unlock()
	return bk.lim.ReserveN(now, 1)
}

// sweep forgets the buckets that have refilled since they were last taken from.
func (b *buckets[K]) sweep(now time.Time) {
	b.mu.Lock()
	b.sweepLocked(now)
	b.mu.Unlock()
}

func (b *buckets[K]) sweepLocked(now time.Time) {
	for k, bk := range b.m {
		if now.Sub(bk.last) >= bk.r.per {
			delete(b.m, k)
		}
	}
}

// len counts the remembered keys.
func (b *buckets[K]) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}

func limitOf(r rate) xrate.Limit {
	return xrate.Limit(float64(r.n) / r.per.Seconds())
}

// take is one token from each of several buckets, all or none.
type take struct {
	rs  []*xrate.Reservation
	now time.Time
}

// cancel gives the tokens back.
func (t *take) cancel() {
	for _, r := range t.rs {
		r.CancelAt(t.now)
	}
}

// peek is how long until key's bucket holds a token, without taking it; 0 means now.
func (b *buckets[K]) peek(key K, r rate, now time.Time) time.Duration {
	if r.off() {
		return 0
	}
	b.mu.Lock()
	bk := b.m[key]
	b.mu.Unlock()
	if bk == nil {
		return 0
	}
	tokens := bk.lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) / float64(limitOf(bk.r)) * float64(time.Second)))
}

// debit takes a token from key's bucket after the fact, into debt if need be: failures
// that came at once (many guesses in flight together) are paid for afterwards. The debt
// stops at a period's worth, so that a flood of failures locks out for about a period,
// not for as long as the flood went on.
func (b *buckets[K]) debit(key K, r rate, now time.Time) {
	if r.off() {
		return
	}
	res := b.reserve(key, r, now)
	if res.OK() && res.DelayFrom(now) > r.per {
		res.CancelAt(now)
	}
}
