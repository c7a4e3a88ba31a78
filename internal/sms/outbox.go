package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/internal/store"
)

// outboxCollection holds every message, keyed by what caused it: the
// record is the claim that sends each message at most once per event.
const outboxCollection = "sms_outbox"

// Indexes are the outbox's indexes: the worker's queue and the admins' list.
var Indexes = []store.Index{
	{Collection: outboxCollection, Name: "queue", Keys: bson.D{{Key: "state", Value: 1}, {Key: "priority", Value: 1}, {Key: "next_at", Value: 1}}},
	{Collection: outboxCollection, Name: "created", Keys: bson.D{{Key: "created_at", Value: -1}}},
}

// The states of a message.
const (
	StateQueued  = "queued"  // waiting for its (next) try
	StateSending = "sending" // a worker holds it until lease_until
	StateSent    = "sent"    // the provider accepted it
	StateFailed  = "failed"  // given up: tries used, refused, or expired
)

// Record is one message in the outbox. The phone, the parameters (a
// sign-in code among them) are kept only until the message is sent or
// given up; then only the masked phone stays.
type Record struct {
	ID          string            `bson:"_id" json:"id"`
	Kind        Kind              `bson:"kind" json:"kind"`
	Phone       string            `bson:"phone,omitempty" json:"-"`
	PhoneMasked string            `bson:"phone_masked" json:"phone"`
	Params      map[string]string `bson:"params,omitempty" json:"-"`
	Priority    int               `bson:"priority" json:"-"`
	State       string            `bson:"state" json:"state"`
	Tries       int               `bson:"tries" json:"tries"`
	LastError   string            `bson:"last_error,omitempty" json:"last_error,omitempty"`
	CreatedAt   time.Time         `bson:"created_at" json:"created_at"`
	NextAt      time.Time         `bson:"next_at" json:"next_at"`
	LeaseUntil  time.Time         `bson:"lease_until,omitempty" json:"-"`
	ExpiresAt   *time.Time        `bson:"expires_at,omitempty" json:"expires_at,omitempty"`
	SentAt      *time.Time        `bson:"sent_at,omitempty" json:"sent_at,omitempty"`
	UpdatedAt   time.Time         `bson:"updated_at" json:"updated_at"`
	// StateLabel and KindLabel are the Chinese labels admins read (List).
	StateLabel string `bson:"-" json:"state_label"`
	KindLabel  string `bson:"-" json:"kind_label"`
}

// StateLabels are the states' labels.
var StateLabels = map[string]string{StateQueued: "待发送", StateSending: "发送中", StateSent: "已发送", StateFailed: "发送失败"}

// OutboxConfig tunes the worker; zero values take the defaults.
type OutboxConfig struct {
	MaxTries int           // default 8, then failed
	Backoff  time.Duration // first wait, doubled per try with jitter; default 2s
	MaxWait  time.Duration // longest wait between tries; default 10m
	// Lease is how long a worker holds a message it is sending; a message
	// still sending after it (the worker died) is tried again. Default 30s,
	// above the sender's 10s timeout.
	Lease time.Duration
	Poll  time.Duration // how often the worker looks for due retries; default 1s
	Now   func() time.Time
}

// Outbox records messages and sends them through a Sender.
type Outbox struct {
	col    *store.Collection
	sender Sender
	cfg    OutboxConfig
	log    *slog.Logger
	wake   chan struct{}
	mu     sync.Mutex
	// afterSend, in tests, runs between the provider's reply and marking
	// the message sent; false stops the worker there, as a kill would.
	afterSend func(Record) bool
}

// NewOutbox returns the outbox on st sending through sender.
func NewOutbox(st *store.Store, sender Sender, log *slog.Logger, cfg OutboxConfig) *Outbox {
	if cfg.MaxTries <= 0 {
		cfg.MaxTries = 8
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 2 * time.Second
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 10 * time.Minute
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Outbox{col: st.Collection(outboxCollection), sender: sender, cfg: cfg, log: log, wake: make(chan struct{}, 1)}
}

// Mode is the sender's name (log, http, aliyun).
func (o *Outbox) Mode() string { return o.sender.Name() }

// Post records m to be sent and wakes the worker; it reports whether
// this call recorded it: false when a message with m's id exists (its
// cause was seen before). It never waits for the provider.
func (o *Outbox) Post(ctx context.Context, m Message) (bool, error) {
	if m.ID == "" || m.Phone == "" {
		return false, fmt.Errorf("sms: a message needs an id and a phone")
	}
	if _, ok := TemplateOf(m.Kind); !ok {
		return false, fmt.Errorf("sms: unknown message kind %q", m.Kind)
	}
	now := o.cfg.Now().UTC()
	r := Record{ID: m.ID, Kind: m.Kind, Phone: m.Phone, PhoneMasked: MaskPhone(m.Phone), Params: m.Params,
		State: StateQueued, CreatedAt: now, NextAt: now, UpdatedAt: now, Priority: 1}
	if m.Kind == KindOTP {
		r.Priority = 0 // a resident is waiting for it
	}
	if !m.Expires.IsZero() {
		e := m.Expires.UTC()
		r.ExpiresAt = &e
	}
	// Recorded even when the request that caused it ends now: the cause
	// (a stored code, a stored case step) already happened.
	if err := o.col.InsertOne(context.WithoutCancel(ctx), r); err != nil {
		if errors.Is(err, minsheng.ErrDuplicate) {
			return false, nil
		}
		return false, fmt.Errorf("sms: unable to queue message: %w", err)
	}
	o.Wake()
	return true, nil
}

// Wake makes the worker look for due messages now.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Run is the worker: it sends due messages, one at a time, sign-in codes
// first, until ctx ends. Several workers (several servers on one store)
// share the queue: each message is claimed by one.
func (o *Outbox) Run(ctx context.Context) {
	t := time.NewTicker(o.cfg.Poll)
	defer t.Stop()
	for {
		for ctx.Err() == nil {
			r, ok, err := o.claim(ctx)
			if err != nil {
				if ctx.Err() == nil {
					o.log.Warn("sms: unable to claim message", "err", err)
				}
				break
			}
			if !ok {
				break
			}
			if !o.deliver(ctx, r) {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-t.C:
		}
	}
}

// claim takes the next due message: queued and due, or sending with its
// lease run out (its worker died).
func (o *Outbox) claim(ctx context.Context) (Record, bool, error) {
	now := o.cfg.Now().UTC()
	filter := bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "state", Value: StateQueued}, {Key: "next_at", Value: bson.D{{Key: "$lte", Value: now}}}},
		bson.D{{Key: "state", Value: StateSending}, {Key: "lease_until", Value: bson.D{{Key: "$lte", Value: now}}}},
	}}}
	update := bson.D{
		{Key: "$set", Value: bson.D{{Key: "state", Value: StateSending}, {Key: "lease_until", Value: now.Add(o.cfg.Lease)}, {Key: "updated_at", Value: now}}},
		{Key: "$inc", Value: bson.D{{Key: "tries", Value: 1}}},
	}
	var r Record
	err := o.col.FindOneAndUpdate(ctx, filter, update, &r, options.FindOneAndUpdate().
		SetSort(bson.D{{Key: "priority", Value: 1}, {Key: "next_at", Value: 1}}).SetReturnDocument(options.After))
	if errors.Is(err, minsheng.ErrNotFound) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, err
	}
	return r, true, nil
}

// deliver sends one claimed message and records the outcome; false when
// the worker is to stop (a test's kill).
func (o *Outbox) deliver(ctx context.Context, r Record) bool {
	now := o.cfg.Now().UTC()
	if r.ExpiresAt != nil && !now.Before(*r.ExpiresAt) {
		o.finish(ctx, r, StateFailed, "已过期，未发送")
		return true
	}
	m := Message{ID: r.ID, Kind: r.Kind, Phone: r.Phone, Params: r.Params}
	// A send under way finishes even when the server stops, so the
	// window between the provider's acceptance and "sent" stays the
	// length of one store write.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), defaultTimeout)
	err := o.sender.Send(sctx, m)
	cancel()
	if err == nil {
		if o.afterSend != nil && !o.afterSend(r) {
			return false
		}
		o.finish(ctx, r, StateSent, "")
		return true
	}
	o.log.Warn("sms: send failed", "id", r.ID, "kind", string(r.Kind), "phone", r.PhoneMasked, "try", r.Tries, "err", err)
	if IsPermanent(err) || r.Tries >= o.cfg.MaxTries {
		o.finish(ctx, r, StateFailed, err.Error())
		return true
	}
	next := now.Add(o.backoff(r.Tries))
	if _, uerr := o.col.UpdateOne(context.WithoutCancel(ctx), o.held(r), bson.D{{Key: "$set", Value: bson.D{
		{Key: "state", Value: StateQueued}, {Key: "next_at", Value: next}, {Key: "last_error", Value: err.Error()},
		{Key: "updated_at", Value: now}}}}); uerr != nil {
		o.log.Warn("sms: unable to requeue message", "id", r.ID, "err", uerr)
	}
	return true
}

// held matches r while this worker still holds it.
func (o *Outbox) held(r Record) bson.D {
	return bson.D{{Key: "_id", Value: r.ID}, {Key: "state", Value: StateSending}, {Key: "tries", Value: r.Tries}}
}

// finish ends r as sent or failed and forgets its phone and parameters.
func (o *Outbox) finish(ctx context.Context, r Record, state, lastErr string) {
	now := o.cfg.Now().UTC()
	set := bson.D{{Key: "state", Value: state}, {Key: "updated_at", Value: now}}
	if state == StateSent {
		set = append(set, bson.E{Key: "sent_at", Value: now})
	}
	if lastErr != "" {
		set = append(set, bson.E{Key: "last_error", Value: lastErr})
	}
	n, err := o.col.UpdateOne(context.WithoutCancel(ctx), o.held(r), bson.D{{Key: "$set", Value: set},
		{Key: "$unset", Value: bson.D{{Key: "phone", Value: ""}, {Key: "params", Value: ""}, {Key: "lease_until", Value: ""}}}})
	switch {
	case err != nil:
		o.log.Warn("sms: unable to record message "+state, "id", r.ID, "err", err)
	case n == 0:
		o.log.Warn("sms: message taken over by another worker before it was recorded "+state, "id", r.ID)
	case state == StateFailed:
		o.log.Error("sms: message failed", "id", r.ID, "kind", string(r.Kind), "phone", r.PhoneMasked, "tries", r.Tries, "err", lastErr)
	}
}

// backoff is the wait after try n: Backoff·2^(n-1), at most MaxWait,
// drawn between half and all of it so failed messages spread out.
func (o *Outbox) backoff(n int) time.Duration {
	d := o.cfg.Backoff
	for i := 1; i < n && d < o.cfg.MaxWait; i++ {
		d *= 2
	}
	d = min(d, o.cfg.MaxWait)
	return d/2 + rand.N(d/2+1)
}

// Summary is what admins see of the outbox.
type Summary struct {
	Counts map[string]int `json:"counts"`
	Items  []Record       `json:"items"`
}

// maxListed is how many messages List returns.
const maxListed = 100

// List returns the latest messages (at most 100, newest first), only
// those in state when it is set, and how many are in each state.
func (o *Outbox) List(ctx context.Context, state string) (Summary, error) {
	s := Summary{Counts: map[string]int{}, Items: []Record{}}
	q := bson.D{}
	if state != "" {
		q = bson.D{{Key: "state", Value: state}}
	}
	if err := o.col.FindAll(ctx, q, &s.Items, options.Find().
		SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(maxListed)); err != nil {
		return s, fmt.Errorf("sms: unable to list messages: %w", err)
	}
	for i := range s.Items {
		t, _ := TemplateOf(s.Items[i].Kind)
		s.Items[i].StateLabel, s.Items[i].KindLabel = StateLabels[s.Items[i].State], t.Label
	}
	for _, st := range []string{StateQueued, StateSending, StateSent, StateFailed} {
		n, err := o.col.Count(ctx, bson.D{{Key: "state", Value: st}})
		if err != nil {
			return s, fmt.Errorf("sms: unable to count messages: %w", err)
		}
		s.Counts[st] = int(n)
	}
	return s, nil
}

// TextSender is a sender of free text: auth's log sender, and the capture
// boxes of tests that read messages as they are sent.
type TextSender interface {
	Send(ctx context.Context, phone, text string) error
}

// Send refuses free text: the outbox sends templated messages only
// (Dispatch posts them); it is here so the outbox can stand where a
// TextSender is configured.
func (o *Outbox) Send(ctx context.Context, phone, text string) error {
	return errors.New("sms: the outbox sends templated messages only")
}

// Dispatch hands m to s: posted to the outbox when s is one (the
// message's id is then its claim: the bool says whether this call
// recorded it), else sent at once as text.
func Dispatch(ctx context.Context, s TextSender, m Message) (bool, error) {
	if o, ok := s.(*Outbox); ok {
		return o.Post(ctx, m)
	}
	return true, s.Send(ctx, m.Phone, m.Text(""))
}
