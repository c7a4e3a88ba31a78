package notify_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"minsheng/cases/notify"
	"minsheng/internal/sms"
	"minsheng/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// TestCaseTextOnceThroughTheOutbox: the same case event seen by several
// requests at once queues one message (its outbox record is the claim),
// round after round, with other messages already in the outbox.
func TestCaseTextOnceThroughTheOutbox(t *testing.T) {
	st := storetest.New(t)
	if err := st.EnsureIndexes(context.Background(), sms.Indexes); err != nil {
		t.Fatal(err)
	}
	log := storetest.Logger()
	sender, err := sms.NewSender(sms.Config{Mode: "log"}, log)
	if err != nil {
		t.Fatal(err)
	}
	box := sms.NewOutbox(st, sender, log, sms.OutboxConfig{})
	texts := notify.NewTexts(st, log)
	texts.Set(box, "https://minsheng.example")
	ctx := context.Background()
	about := notify.About{ID: "c1", Number: "XC2026-000001", FilerID: "u1"}
	for round := range 4 {
		other, _ := sms.New(fmt.Sprintf("otp:%d", round), sms.KindOTP, "13800000001", map[string]string{"code": "000000", "minutes": "5"})
		if _, err := box.Post(ctx, other); err != nil {
			t.Fatal(err)
		}
		m := notify.Text{ID: fmt.Sprintf("c1:accept:%d", round), CaseID: "c1", Action: "accept", Phone: "13912345678"}
		var wg sync.WaitGroup
		var queued atomic.Int32
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				text, ok := texts.Send(ctx, m, func(site string) (sms.Message, bool) {
					return notify.ForResident(about, notify.StepAccepted, site, nil)
				})
				if ok {
					queued.Add(1)
					if text != "【民生】您的诉求XC2026-000001已受理，我们将尽快办理。查看进度：https://minsheng.example/mine/c1" {
						t.Errorf("text = %q", text)
					}
				}
			}()
		}
		wg.Wait()
		if queued.Load() != 1 {
			t.Fatalf("round %d: queued %d times, want 1", round, queued.Load())
		}
	}
	sum, err := box.List(ctx, "")
	if err != nil || sum.Counts[sms.StateQueued] != 8 {
		t.Fatalf("outbox: %+v, %v", sum.Counts, err)
	}
}
