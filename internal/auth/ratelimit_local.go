package auth

import (
	"sync"
	"time"
)

// localCounts keeps the request limits of AllowAs and the idempotency keys
// of seen in this process's memory instead of the database. It serves the
// embedded engine (FerretDB), which one process owns (docs/ARCHITECTURE.md: one
// process per FerretDB; several instances need MongoDB), so the count is
// the same one the database would hold, without two guarded writes on
// every filing. A restart starts the windows afresh, as if they had
// ended. Sign-in failures and lockouts stay in the database (Full, Count,
// lockout.go): they must survive a restart.
type localCounts struct {
	mu        sync.Mutex
	windows   map[string]*localWindow // key|slot width → slots
	claims    map[string]time.Time    // seen id → expiry
	sweepSize int
}

// localWindow is one key's sliding window: its live slots and when the
// last of them stops counting.
type localWindow struct {
	slots []slotCount
	until time.Time
}

// localSweepSize is how many entries may pile up before an insert sweeps
// ended ones, so memory follows the live windows even without Sweep.
const localSweepSize = 4096

func newLocalCounts() *localCounts {
	return &localCounts{windows: map[string]*localWindow{}, claims: map[string]time.Time{}, sweepSize: localSweepSize}
}

// allow counts one attempt against every limit, or against none when one
// of them already holds N attempts in its sliding window: then ok is false
// and wait the longest wait of the full ones. A claimID already claimed
// and not expired is a replay: nothing is counted. The claim is made only
// when every limit passes, all under one lock, so simultaneous copies of
// one request count once and a refused attempt leaves no claim for its
// copies to pass on, nor any count.
func (l *localCounts) allow(now time.Time, claimID string, claimUntil time.Time, limits ...keyedLimit) (wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maybeSweep(now)
	if claimID != "" {
		if exp, found := l.claims[claimID]; found && exp.After(now) {
			return 0, true
		}
	}
	windows := make([]*localWindow, len(limits))
	for i, k := range limits {
		w := slideOf(k.lim)
		id := w.docID(k.key)
		lw := l.windows[id]
		if lw == nil {
			lw = &localWindow{}
			l.windows[id] = lw
		}
		live, sum := w.live(now, lw.slots)
		lw.slots = live
		if sum >= k.lim.N {
			wait = max(wait, w.wait(now, live, sum, k.lim.N-1), time.Nanosecond)
		}
		windows[i] = lw
	}
	if wait > 0 {
		return wait, false
	}
	for i, k := range limits {
		w, lw := slideOf(k.lim), windows[i]
		s := w.slot(now)
		if n := len(lw.slots); n > 0 && lw.slots[n-1].slot == s {
			lw.slots[n-1].n++
		} else {
			lw.slots = append(lw.slots, slotCount{slot: s, n: 1})
		}
		lw.until = now.Add(w.ttl())
	}
	if claimID != "" {
		l.claims[claimID] = claimUntil
	}
	return 0, true
}

func (l *localCounts) maybeSweep(now time.Time) {
	if len(l.windows)+len(l.claims) < l.sweepSize {
		return
	}
	l.sweepLocked(now)
	// Live entries alone may exceed the size: sweep again only once as
	// many have been added.
	l.sweepSize = max(localSweepSize, 2*(len(l.windows)+len(l.claims)))
}

// sweep drops ended windows and expired claims.
func (l *localCounts) sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweepLocked(now)
}

func (l *localCounts) sweepLocked(now time.Time) {
	for id, w := range l.windows {
		if !w.until.After(now) {
			delete(l.windows, id)
		}
	}
	for id, exp := range l.claims {
		if !exp.After(now) {
			delete(l.claims, id)
		}
	}
}
