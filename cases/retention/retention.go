// Package retention keeps personal data on cases no longer than it may be
// kept (PIPL, 个人信息保护法): the purge of the contacts of cases that
// reached a final state before a date, and a resident's erasure (删除个人
// 信息) — the contact blanked on cases they filed or that were filed for
// them, the cases unlinked from the account, their co-signatures
// withdrawn, and the summaries that named them rewritten. The cases stay,
// anonymous, as the sub-district's record; timelines hold no residents'
// names. Who may ask is casework's (package cases).
//
// Errors: the store's, wrapped with the action that failed.
package retention

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng/cases/casedb"
)

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
