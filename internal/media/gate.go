package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"minsheng"
)

// Gate bounds how many photos are decoded at once in this process: each
// decode may take MaxDecodeBytes plus its resized copies, and resizing keeps
// every core busy, so a burst of uploads must queue instead of adding up.
type Gate struct {
	slots chan struct{}
	// MaxWait is the longest a caller waits for a slot; NewGate sets 20 s.
	MaxWait time.Duration
	inUse   atomic.Int64
	peak    atomic.Int64
}

// NewGate returns a gate letting n decodes run at once (at least 1).
func NewGate(n int) *Gate {
	if n < 1 {
		n = 1
	}
	return &Gate{slots: make(chan struct{}, n), MaxWait: 20 * time.Second}
}

// Busy is the cause of the gate's ERATELIMITED: try again after Wait.
type Busy struct{ Wait time.Duration }

func (b *Busy) Error() string {
	return fmt.Sprintf("media: all decode slots busy, retry after %v", b.Wait)
}

// RetryAfterDuration is the wait the HTTP layer sends as Retry-After.
func (b *Busy) RetryAfterDuration() time.Duration { return b.Wait }

// busyRetry is what a refused caller is told to wait: about one decode.
const busyRetry = 5 * time.Second

// Process is Process(r, lim) once a slot is free. A caller waits for a slot
// at most MaxWait and only as long as ctx lives; then it gets ERATELIMITED
// (the server is busy decoding others' photos; Busy says when to retry)
// and nothing is decoded.
func (g *Gate) Process(ctx context.Context, r io.Reader, lim Limits) (*Photo, error) {
	wait := time.NewTimer(g.MaxWait)
	defer wait.Stop()
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, &minsheng.Error{Code: minsheng.ERATELIMITED, Message: "服务器正忙于处理其他照片，请 5 秒后重试",
			Err: errors.Join(&Busy{Wait: busyRetry}, ctx.Err())}
	case <-wait.C:
		return nil, &minsheng.Error{Code: minsheng.ERATELIMITED, Message: "服务器正忙于处理其他照片，请 5 秒后重试", Err: &Busy{Wait: busyRetry}}
	}
	n := g.inUse.Add(1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			break
		}
	}
	defer func() {
		g.inUse.Add(-1)
		<-g.slots
	}()
	return Process(r, lim)
}

// Peak is the largest number of decodes that ran at once, for tests and
// metrics.
func (g *Gate) Peak() int { return int(g.peak.Load()) }
