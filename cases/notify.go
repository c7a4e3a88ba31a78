package cases

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/cases/notify"
	"minsheng/internal/auth"
)

// Notifications for staff (通知): produced by the service when a case is
// assigned, gets a verdict, is linked to money or waitlisted, and when a
// deadline comes within 24 hours or passes. Each has an id derived from
// what caused it (case, kind, version or deadline), so it is inserted at
// most once however often the cause is seen; a duplicate insert is ignored.

// NotifyIndexes are the indexes of the notifications.
var NotifyIndexes = notify.Indexes

// Notification kinds.
const (
	NotifyAssigned = notify.KindAssigned
	NotifyDueSoon  = notify.KindDueSoon
	NotifyOverdue  = notify.KindOverdue
	NotifyVerdict  = notify.KindVerdict
	NotifyBudget   = notify.KindBudget
)

// Notification is one message to a staff member about a case.
type Notification = notify.Notification

// about is what package notify's messages say of c.
func about(c *Case) notify.About {
	return notify.About{ID: c.ID, Number: c.Number, Title: c.Title, AssignedTo: c.AssignedTo, Version: c.Version,
		Events: len(c.Timeline), VerdictLabel: c.Verdict.Label(), Anonymous: c.Anonymous, FilerID: c.FilerID, Reason: c.Reason}
}

// noticeStep is the step of a timeline entry's action that may call for a
// message (notify.ForStaff, notify.ForResident).
func noticeStep(a Action) notify.Step {
	return map[Action]notify.Step{ActAssign: notify.StepAssigned, ActVerdict: notify.StepVerdict, ActReopen: notify.StepReopen,
		ActBudget: notify.StepBudget, ActAccept: notify.StepAccepted, ActComplete: notify.StepCompleted,
		ActReject: notify.StepRejected, ActMerge: notify.StepMerged}[a]
}

// notifyAfter is called after every stored change with the case as stored
// and the timeline entry written; it never fails the change.
func (s *Service) notifyAfter(ctx context.Context, c *Case, ev Event) {
	if c == nil {
		return
	}
	if n := notify.ForStaff(about(c), noticeStep(ev.Action), ev.Note, ev.At); n != nil {
		s.inbox.Put(ctx, n)
	}
}

// notifyDeadlines produces the deadline notifications of p's assigned
// cases that came due since they were last looked at, so a list opened
// between two sweeps (SweepDeadlines) is already up to date.
func (s *Service) notifyDeadlines(ctx context.Context, p auth.Principal) error {
	now := s.now()
	return s.eachInScope(ctx, p, func(c *Case) error {
		if c.AssignedTo == p.UserID {
			s.notifyDeadline(ctx, about(c), p.UserID, DeadlineOf(c, now), now)
		}
		return nil
	})
}

// notifyDeadline stores the notice of c's running deadline d for user, if
// d calls for one (notify.ForDeadline), and reports whether it was new.
func (s *Service) notifyDeadline(ctx context.Context, c notify.About, user string, d *Deadline, now time.Time) bool {
	if d == nil {
		return false
	}
	n := notify.ForDeadline(c, user, d.Text, d.Overdue, d.DueSoon, d.DueAt, now)
	return n != nil && s.inbox.Put(ctx, n)
}

// SweepDeadlines produces the deadline notices of every open, assigned
// case whose deadline falls within 24 hours or has passed, for its
// assignee, without anyone opening a list. It reads the queue summaries
// (open states, pushed down by the engine's $in; the deadline is compared
// in Go) and not the cases. It returns how many notices it created;
// notices already there are left alone.
func (s *Service) SweepDeadlines(ctx context.Context) (int, error) {
	now := s.now()
	sums, err := s.cases.Summaries(ctx, bson.D{
		{Key: "status", Value: bson.D{{Key: "$in", Value: openStatuses}}},
		{Key: "due_at", Value: bson.D{{Key: "$lte", Value: now.Add(24 * time.Hour)}}},
	}, bson.D{{Key: "_id", Value: 1}}, 0)
	if err != nil {
		return 0, fmt.Errorf("cases: unable to sweep deadlines: %w", err)
	}
	made := 0
	for _, sm := range sums {
		if ctx.Err() != nil {
			return made, ctx.Err()
		}
		d := DeadlineOf(&Case{Status: Status(sm.Status), DueAt: sm.DueAt}, now)
		if s.notifyDeadline(ctx, notify.About{ID: sm.ID, Number: sm.Number, Title: sm.Title}, sm.AssignedTo, d, now) {
			made++
		}
	}
	return made, nil
}

// RunDeadlineSweep calls SweepDeadlines (and SweepPhotoUploads, which
// expires direct uploads never confirmed) at once and then every interval
// until ctx ends (the server's shutdown), and returns then. A failed
// sweep is logged and tried again at the next tick.
func (s *Service) RunDeadlineSweep(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultDeadlineSweep
	}
	notify.Every(ctx, interval, s.cfg.Logger,
		notify.Sweep{Name: "deadline sweep", Done: "deadline sweep: notices created", Unit: "notices", Run: s.SweepDeadlines},
		notify.Sweep{Name: "photo upload sweep", Done: "photo upload sweep: unconfirmed uploads expired", Unit: "uploads", Run: s.SweepPhotoUploads})
}

// DefaultDeadlineSweep is how often RunDeadlineSweep looks when not told.
const DefaultDeadlineSweep = 5 * time.Minute

// Notifications returns p's latest notifications (at most 100, newest
// first) and how many are unread.
func (s *Service) Notifications(ctx context.Context, p auth.Principal) ([]Notification, int, error) {
	if err := s.notifyDeadlines(ctx, p); err != nil {
		return nil, 0, err
	}
	return s.inbox.List(ctx, p.UserID)
}

// UnreadCount counts p's unread notifications.
func (s *Service) UnreadCount(ctx context.Context, p auth.Principal) (int, error) {
	return s.inbox.Unread(ctx, p.UserID)
}

// MarkRead marks p's notifications read: the given ids, or all when ids is
// empty. Marking is idempotent. EINVALID for more than 100 ids.
func (s *Service) MarkRead(ctx context.Context, p auth.Principal, ids []string) (int, error) {
	return s.inbox.MarkRead(ctx, p.UserID, ids, s.now())
}

// notifyBudget tells the assigned cadre that money was linked to the case,
// released or waitlisted (budgetlink's note says which).
func (s *Service) notifyBudget(ctx context.Context, id, note string) {
	c, err := s.load(ctx, id)
	if err != nil {
		return
	}
	s.notifyAfter(ctx, c, Event{At: s.now(), Action: ActBudget, Note: note})
}

// NotifyWaitlisted is the kind of "资金不足，已列入候补".
const NotifyWaitlisted = notify.KindWaitlisted

// WaitlistNotice is a committed allocation run's word that a need stays
// waitlisted on its line: what it needs and what the line has left.
type WaitlistNotice = notify.Waitlist

// NotifyWaitlisted tells the cadre assigned to an open case — or, while
// none is, every cadre of its community — that a committed run left it
// waitlisted, with the shortfall. Each recipient gets it once per run and
// case (the notification's id is run, case and user, inserted under the
// unique _id), however often or concurrently the run is applied again.
// Errors only from reading the case or the cadres; a closed case or one
// without anyone to tell is no error.
func (s *Service) NotifyWaitlisted(ctx context.Context, w WaitlistNotice) error {
	c, err := s.load(ctx, w.CaseID)
	if err != nil {
		return err
	}
	if !c.Status.Open() {
		return nil
	}
	users, err := notify.Recipients(ctx, s.cfg.Users, c.AssignedTo, c.Location.SubDistrict, c.Location.Community)
	if err != nil {
		return err
	}
	for _, n := range notify.ForWaitlist(about(c), w, users, s.now()) {
		s.inbox.Put(ctx, n)
	}
	return nil
}
