package auth

import (
	"fmt"
	"sort"
	"strconv"
	"time"
)

// Every limit is a sliding window: an attempt is allowed when fewer than N
// attempts were allowed in the window before it, wherever the clock's
// minute or hour boundaries fall (DESIGN: limits are sliding). Fixed
// windows let 2N through across a boundary; a token bucket lets N plus a
// refill through in one window.
//
// The window is kept as counts per slot, slotsPerWindow slots per window
// (an hour's window: one-minute slots), so a key costs at most 61
// counters however many attempts it sees. The slot the window's start
// falls in is counted whole: never more than N attempts pass in any span
// of one window (tolerance 0); an attempt may wait up to one slot (1/60 of
// the window) longer than an exact log of attempts would make it, and
// Retry-After states that wait.
const slotsPerWindow = 60

// slide is a limit's slots: each g long, counted from the current one back
// k slots (k·g covers the window).
type slide struct {
	g time.Duration
	k int64
}

func slideOf(lim Limit) slide {
	g := max(lim.Window/slotsPerWindow, 1)
	return slide{g: g, k: int64((lim.Window + g - 1) / g)}
}

// slot is the slot t falls in.
func (w slide) slot(t time.Time) int64 {
	ns, g := t.UnixNano(), int64(w.g)
	s := ns / g
	if ns%g < 0 {
		s--
	}
	return s
}

// oldest is the first slot still counted at now.
func (w slide) oldest(now time.Time) int64 { return w.slot(now) - w.k }

// freed is when slot s stops being counted.
func (w slide) freed(s int64) time.Time { return time.Unix(0, (s+w.k+1)*int64(w.g)) }

// ttl is how long a window's counts matter after its last attempt.
func (w slide) ttl() time.Duration { return time.Duration(w.k+1) * w.g }

// slotCount is one slot's attempts.
type slotCount struct {
	slot, n int64
}

// live sorts the counts of the slots still counted at now, oldest first,
// and returns them with their sum.
func (w slide) live(now time.Time, counts []slotCount) ([]slotCount, int64) {
	first := w.oldest(now)
	out := counts[:0:0]
	var sum int64
	for _, c := range counts {
		if c.slot >= first && c.n > 0 {
			out = append(out, c)
			sum += c.n
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].slot < out[j].slot })
	return out, sum
}

// wait is how long from now until the live counts sum to at most most,
// counting no new attempt: 0 when they already do.
func (w slide) wait(now time.Time, live []slotCount, sum, most int64) time.Duration {
	for _, c := range live {
		if sum <= most {
			break
		}
		sum -= c.n
		if sum <= most {
			return max(w.freed(c.slot).Sub(now), time.Nanosecond)
		}
	}
	return 0
}

// docID is the stored window of key; the slot width is part of it, so a
// limit changed between two starts never reads slots of another width.
func (w slide) docID(key string) string { return fmt.Sprintf("win|%s|%d", key, int64(w.g)) }

// slotField is the field of slot s inside a stored window's "s".
func slotField(s int64) string { return strconv.FormatInt(s, 10) }

// without is live less the one attempt just added to slot s.
func without(live []slotCount, s int64) []slotCount {
	out := make([]slotCount, 0, len(live))
	for _, c := range live {
		if c.slot == s {
			c.n--
		}
		if c.n > 0 {
			out = append(out, c)
		}
	}
	return out
}

// MaxWait is the longest wait a refusal under l can state: the window and
// its oldest slot, which counts whole (Retry-After never says more).
func (l Limit) MaxWait() time.Duration { return slideOf(l).ttl() }
