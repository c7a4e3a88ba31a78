// Package notify keeps the messages casework sends: staff notifications
// (通知), an inbox per user in which each notification is stored at most
// once per cause, and residents' text messages, each sent at most once per
// event through a pluggable sender; what each message says and which
// steps call for one (messages.go: ForStaff, ForDeadline, ForWaitlist,
// ForResident), and the ticker of the periodic sweeps (Every). Which step
// a case took, and what it says of the case (About), is casework's
// (package cases).
//
// Errors: EINVALID (minsheng) for too many ids to mark read; the store's
// errors, wrapped with the action that failed. Storing a notification and
// sending a text never fail their caller: a failure is logged.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/internal/sms"
	"minsheng/internal/store"
)

const (
	inboxCollection = "notifications"
	// textsCollection holds the claims that send each text at most once.
	textsCollection = "case_notifications"
	// maxListed is how many notifications a list shows, and maxMarked how
	// many ids one MarkRead takes.
	maxListed = 100
	maxMarked = 100
)

// Indexes are the indexes of the notifications.
var Indexes = []store.Index{
	{Collection: inboxCollection, Name: "user_at", Keys: bson.D{{Key: "user_id", Value: 1}, {Key: "at", Value: -1}}},
	{Collection: inboxCollection, Name: "user_read", Keys: bson.D{{Key: "user_id", Value: 1}, {Key: "read", Value: 1}}},
}

// Notification is one message to a staff member about a case.
type Notification struct {
	ID         string     `bson:"_id" json:"id"`
	UserID     string     `bson:"user_id" json:"-"`
	Kind       string     `bson:"kind" json:"kind"`
	Title      string     `bson:"title" json:"title"`
	Text       string     `bson:"text" json:"text"`
	CaseID     string     `bson:"case_id" json:"case_id"`
	CaseNumber string     `bson:"case_number" json:"case_number"`
	At         time.Time  `bson:"at" json:"at"`
	Read       bool       `bson:"read" json:"read"`
	ReadAt     *time.Time `bson:"read_at,omitempty" json:"read_at,omitempty"`
}

// Inbox holds the staff's notifications.
type Inbox struct {
	col *store.Collection
	log *slog.Logger
}

// NewInbox returns the inbox on st; log takes the notifications it could
// not store.
func NewInbox(st *store.Store, log *slog.Logger) *Inbox {
	return &Inbox{col: st.Collection(inboxCollection), log: log}
}

// Put stores n unless a notification with its id exists (its id says what
// caused it, so it is the claim); it reports whether this call created it.
func (b *Inbox) Put(ctx context.Context, n *Notification) bool {
	err := b.col.InsertOne(context.WithoutCancel(ctx), n)
	if err != nil && !errors.Is(err, minsheng.ErrDuplicate) {
		b.log.Warn("notify: unable to store notification", "kind", n.Kind, "case", n.CaseID, "err", err)
	}
	return err == nil
}

// List returns user's latest notifications (at most 100, newest first)
// and how many are unread.
func (b *Inbox) List(ctx context.Context, user string) ([]Notification, int, error) {
	out := []Notification{}
	if err := b.col.FindAll(ctx, bson.D{{Key: "user_id", Value: user}}, &out,
		options.Find().SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(maxListed)); err != nil {
		return nil, 0, fmt.Errorf("notify: unable to list notifications: %w", err)
	}
	unread, err := b.Unread(ctx, user)
	return out, unread, err
}

// Unread counts user's unread notifications.
func (b *Inbox) Unread(ctx context.Context, user string) (int, error) {
	n, err := b.col.Count(ctx, bson.D{{Key: "user_id", Value: user}, {Key: "read", Value: false}})
	if err != nil {
		return 0, fmt.Errorf("notify: unable to count notifications: %w", err)
	}
	return int(n), nil
}

// MarkRead marks user's notifications read at now: the given ids, or all
// when ids is empty, and returns how many stay unread. Marking is
// idempotent. EINVALID for more than 100 ids.
func (b *Inbox) MarkRead(ctx context.Context, user string, ids []string, now time.Time) (int, error) {
	if len(ids) > maxMarked {
		return 0, minsheng.Invalid("一次最多标记100条", map[string]string{"ids": "最多100条"})
	}
	q := bson.D{{Key: "user_id", Value: user}, {Key: "read", Value: false}}
	if len(ids) > 0 {
		q = append(q, bson.E{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}})
	}
	if _, err := b.col.UpdateMany(ctx, q,
		bson.D{{Key: "$set", Value: bson.D{{Key: "read", Value: true}, {Key: "read_at", Value: now}}}}); err != nil {
		return 0, fmt.Errorf("notify: unable to mark notifications read: %w", err)
	}
	return b.Unread(ctx, user)
}

// SMSSender delivers a text message; auth.SMSSender is the same
// interface, so the sign-in codes and the case notifications share one
// sender: the SMS outbox (internal/sms) on a server.
type SMSSender = sms.TextSender

// Text is one text message due to a resident; ID says what caused it (the
// case, the step and the version the step produced), so it goes out at
// most once however often the cause is seen: that id is the claim — the
// outbox's record when the sender is the outbox, else a document in
// case_notifications.
type Text struct {
	ID     string    `bson:"_id"`
	CaseID string    `bson:"case_id"`
	Action string    `bson:"action"`
	At     time.Time `bson:"at"`
	Sent   bool      `bson:"sent"`
	Phone  string    `bson:"-"`
}

// Texts sends residents' text messages.
type Texts struct {
	claims *store.Collection
	log    *slog.Logger
	mu     sync.Mutex
	sender SMSSender
	site   string
}

// NewTexts returns the text messages on st, sending none until Set.
func NewTexts(st *store.Store, log *slog.Logger) *Texts {
	return &Texts{claims: st.Collection(textsCollection), log: log}
}

// Set makes Send use sender; siteURL is the public base of the resident
// site for the messages' links. A nil sender sends none.
func (t *Texts) Set(sender SMSSender, siteURL string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sender, t.site = sender, siteURL
}

// Send sends m once, the message compose makes from the site's URL (false:
// none due), unless no sender is set or m has no phone. It returns the
// message's text and whether this call queued or sent it; a failure is
// logged, never returned: the step that caused it succeeded. With the
// outbox the message is queued under m's id (its record is the claim)
// and sent by the outbox's worker, retried until it goes out.
func (t *Texts) Send(ctx context.Context, m Text, compose func(siteURL string) (sms.Message, bool)) (string, bool) {
	t.mu.Lock()
	sender, site := t.sender, t.site
	t.mu.Unlock()
	if sender == nil || m.Phone == "" {
		return "", false
	}
	msg, ok := compose(site)
	if !ok {
		return "", false
	}
	msg.ID, msg.Phone = m.ID, m.Phone
	if _, outbox := sender.(*sms.Outbox); outbox {
		queued, err := sms.Dispatch(ctx, sender, msg)
		if err != nil {
			t.log.Warn("notify: unable to queue sms", "case", m.CaseID, "action", m.Action, "err", err)
		}
		return msg.Text(""), queued && err == nil
	}
	if err := t.claims.InsertOne(ctx, m); err != nil {
		if !errors.Is(err, minsheng.ErrDuplicate) {
			t.log.Warn("notify: unable to claim notification", "case", m.CaseID, "err", err)
		}
		return "", false
	}
	if _, err := sms.Dispatch(ctx, sender, msg); err != nil {
		t.log.Warn("notify: unable to send sms", "case", m.CaseID, "action", m.Action, "err", err)
		return "", false
	}
	if _, err := t.claims.UpdateOne(ctx, bson.D{{Key: "_id", Value: m.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "sent", Value: true}}}}); err != nil {
		t.log.Warn("notify: unable to mark notification sent", "case", m.CaseID, "err", err)
	}
	return msg.Text(""), true
}
