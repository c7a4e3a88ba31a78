package auth

import (
	"sync"
	"time"
)

// localCounts keeps the request limits of AllowAs and the idempotency keys
// of seen in this process's memory instead of the database. It serves the
// embedded engine (FerretDB), which one process owns (DESIGN.md: one
// process per FerretDB; several instances need MongoDB), so the count is
// the same one the database would hold, without two guarded upserts on
// every filing. A restart starts the windows afresh, as if they had
// ended. Sign-in failures and lockouts stay in the database (Full, Count,
// lockout.go): they must survive a restart.
type localCounts struct {
	mu        sync.Mutex
	windows   map[string]localWindow // key|window start → count
	claims    map[string]time.Time   // seen id → expiry
	sweepSize int
}

type localWindow struct {
	count int64
	end   time.Time
}

// localSweepSize is how many entries may pile up before an insert sweeps
// ended ones, so memory follows the live windows even without Sweep.
const localSweepSize = 4096

func newLocalCounts() *localCounts {
	return &localCounts{windows: map[string]localWindow{}, claims: map[string]time.Time{}, sweepSize: localSweepSize}
}

// localCheck is one limit an attempt counts against: the window's id
// (key|window start), its end and the limit.
type localCheck struct {
	id  string
	end time.Time
	n   int64
}

// allow counts one attempt against each check in turn and returns the
// wait of the first one it passes (ok false), as the database path stops
// at its first refusal. A claimID already claimed and not expired is a
// replay: nothing is counted. The claim is made only when every check
// passes, all under one lock, so simultaneous copies of one request count
// once and a refused attempt leaves no claim for its copies to pass on,
// nor memory behind it beyond its windows.
func (l *localCounts) allow(now time.Time, claimID string, claimUntil time.Time, checks ...localCheck) (wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maybeSweep(now)
	if claimID != "" {
		if exp, found := l.claims[claimID]; found && exp.After(now) {
			return 0, true
		}
	}
	for _, c := range checks {
		w := l.windows[c.id]
		w.count++
		w.end = c.end
		l.windows[c.id] = w
		if w.count > c.n {
			return c.end.Sub(now), false
		}
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
		if !w.end.After(now) {
			delete(l.windows, id)
		}
	}
	for id, exp := range l.claims {
		if !exp.After(now) {
			delete(l.claims, id)
		}
	}
}
