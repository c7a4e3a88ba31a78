// Package residents ties residents' accounts and personal data to cases:
// the cases staff filed for a resident's verified phone, linked to their
// account when they sign in (Link); and personal data kept no longer than
// it may be (PIPL, 个人信息保护法) — the contacts of cases that reached a
// final state before a date purged (Purge), and a resident's erasure
// (删除个人信息, Forget): the contact blanked on cases they filed or that
// were filed for them, the cases unlinked from the account, their
// co-signatures withdrawn, and the summaries that named them rewritten.
// The cases stay, anonymous, as the sub-district's record; timelines hold
// no residents' names. Who may ask, and what the timeline says, are
// casework's (package cases).
//
// Errors: the store's, wrapped with the action that failed.
package residents

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng/cases/casedb"
	"minsheng/internal/auth"
	"minsheng/internal/store"
)

// Indexes: Link looks cases up by the contact's phone; sparse, because
// most cases filed by residents themselves need no entry.
var Indexes = []store.Index{{Collection: casedb.CasesCollection, Name: "contact_phone_on_behalf",
	Keys: casedb.Keys("contact_phone", "filer_id"), Sparse: true}}

// Link gives user the cases staff filed for their verified phone and no
// account yet, each with entry on its timeline. It changes no version: it
// never conflicts with the work on the case.
func Link[C, F any](ctx context.Context, db *casedb.DB[C, F], user, phone string, entry any) error {
	unlinked := bson.D{
		{Key: "contact_phone", Value: phone},
		{Key: "filer_id", Value: bson.D{{Key: "$exists", Value: false}}},
		{Key: "anonymous", Value: false},
		{Key: "filed_by_role", Value: bson.D{{Key: "$in", Value: bson.A{auth.RoleCadre, auth.RoleSubdistrict}}}},
	}
	var found []struct {
		ID string `bson:"_id"`
	}
	if err := db.FindAll(ctx, unlinked, &found, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}})); err != nil {
		return fmt.Errorf("cases: unable to find on-behalf cases: %w", err)
	}
	// One case at a time through the case store, so that each summary
	// gains its filer_id (the resident's list reads it there).
	for _, c := range found {
		_, err := db.Update(ctx, casedb.Change{ID: c.ID, If: unlinked,
			Update: bson.D{
				{Key: "$set", Value: bson.D{{Key: "filer_id", Value: user}}},
				{Key: "$push", Value: bson.D{{Key: "timeline", Value: entry}}},
			}})
		if err != nil {
			return fmt.Errorf("cases: unable to link on-behalf case %s: %w", c.ID, err)
		}
	}
	return nil
}

// Purge blanks the contact name and phone of cases that reached a final
// state before the given time, stamped purged at now, and returns how many
// it purged.
func Purge[C, F any](ctx context.Context, db *casedb.DB[C, F], before, now time.Time) (int64, error) {
	n, err := db.UpdateManyUnsummarized(ctx,
		bson.D{
			{Key: "closed_at", Value: bson.D{{Key: "$lt", Value: before.UTC()}}},
			{Key: "purged_at", Value: bson.D{{Key: "$exists", Value: false}}},
		},
		bson.D{
			{Key: "$set", Value: bson.D{
				{Key: "contact_name", Value: ""},
				{Key: "contact_phone", Value: ""},
				{Key: "purged_at", Value: now},
			}},
		})
	if err != nil {
		return 0, fmt.Errorf("cases: unable to purge personal data: %w", err)
	}
	return n, nil
}

// Forget erases user from cases at now and returns how many cases changed.
func Forget[C, F any](ctx context.Context, db *casedb.DB[C, F], user string, now time.Time) (int64, error) {
	// The summaries that name the resident, to rewrite once the cases
	// have changed (UpdateMany leaves summaries alone).
	var named []string
	for _, field := range []string{"filer_id", "cosigners"} {
		sums, err := db.Summaries(ctx, bson.D{{Key: field, Value: user}}, bson.D{{Key: "_id", Value: 1}}, 0)
		if err != nil {
			return 0, err
		}
		for _, sm := range sums {
			named = append(named, sm.ID)
		}
	}
	blank := bson.D{
		{Key: "$set", Value: bson.D{{Key: "contact_name", Value: ""}, {Key: "contact_phone", Value: ""}, {Key: "purged_at", Value: now}}},
		{Key: "$unset", Value: bson.D{{Key: "filer_id", Value: ""}, {Key: "filed_by", Value: ""}}},
	}
	n, err := db.UpdateManyUnsummarized(ctx, bson.D{{Key: "filer_id", Value: user}}, blank)
	if err != nil {
		return 0, fmt.Errorf("cases: unable to forget resident: %w", err)
	}
	m, err := db.UpdateManyUnsummarized(ctx, bson.D{{Key: "filed_by", Value: user}}, blank)
	if err != nil {
		return 0, fmt.Errorf("cases: unable to forget resident: %w", err)
	}
	k, err := db.UpdateManyUnsummarized(ctx, bson.D{{Key: "cosigners", Value: user}},
		bson.D{{Key: "$pull", Value: bson.D{{Key: "cosigners", Value: user}}}})
	if err != nil {
		return 0, fmt.Errorf("cases: unable to withdraw co-signatures: %w", err)
	}
	for _, id := range named {
		if err := db.Refresh(ctx, id); err != nil {
			return 0, err
		}
	}
	return n + m + k, nil
}
