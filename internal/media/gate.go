package media

import (
	"context"
	"io"
	"sync/atomic"

	"minsheng"
)

// Gate bounds how many photos are decoded at once in this process: each
// decode may take MaxDecodeBytes plus its resized copies, and resizing keeps
// every core busy, so a burst of uploads must queue instead of adding up.
type Gate struct {
	slots chan struct{}
	inUse atomic.Int64
	peak  atomic.Int64
}

// NewGate returns a gate letting n decodes run at once (at least 1).
func NewGate(n int) *Gate {
	if n < 1 {
		n = 1
	}
	return &Gate{slots: make(chan struct{}, n)}
}

// Process is Process(r, lim) once a slot is free. A caller waits for a slot
// only as long as ctx lives; then it gets ERATELIMITED (the server is busy
// decoding others' photos, try again shortly) and nothing is decoded.
func (g *Gate) Process(ctx context.Context, r io.Reader, lim Limits) (*Photo, error) {
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, &minsheng.Error{Code: minsheng.ERATELIMITED, Message: "服务器正忙于处理其他照片，请稍后重试", Err: ctx.Err()}
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
