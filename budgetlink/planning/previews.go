package planning

// Stored previews (预览). A dry run is stored like a committed run, with
// state preview and no outcomes, so staff can open it later and commit
// exactly what they saw:
//
//   - who previewed, when, the weights, the inputs' digest and the whole
//     result (funded, waitlisted, shortfall per line, suggested
//     adjustments, next year's requests) are kept;
//   - a sub-district keeps its newest PreviewsKept previews; older ones
//     are deleted when a new one is stored (a committed preview is kept
//     with them until it ages out; the run it became is never pruned);
//   - committing a preview (RunRequest.FromPreview) decides the run again
//     as of the preview's time and goes ahead only when the inputs' digest
//     is still the preview's: a line's money adjusted or reserved, a case
//     assessed, linked, closed, co-signed or newly filed, or the weights
//     changed since make it ECONFLICT, and the console previews again. A
//     preview is committed at most once: a claim under a unique _id names
//     the run it became.

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/budgetlink/allocation"
	"minsheng/internal/auth"
)

// PreviewsKept is how many previews each sub-district keeps.
const PreviewsKept = 20

// inputsDigest fingerprints what a run of d decides from, the demand with
// no line included (it goes into next year's request).
func inputsDigest(d *demand, w allocation.Weights) string {
	extra := make([]string, 0, len(d.unplaced))
	for _, u := range d.unplaced {
		extra = append(extra, u.CaseID+"|"+u.ItemCode+"|"+strconv.FormatInt(u.EstimateFen, 10))
	}
	return allocation.InputsDigest(d.lines, d.needs, w, extra)
}

// storePreview stores a dry run and prunes the sub-district's old ones.
// A copy of the same request stored first wins and is answered.
func (s *Service) storePreview(ctx context.Context, p auth.Principal, doc *runDoc, req RunRequest) (RunReport, error) {
	if err := s.runs.InsertOne(ctx, doc); errors.Is(err, minsheng.ErrDuplicate) {
		existing, ferr := s.findRun(ctx, doc.ID)
		if ferr != nil {
			return RunReport{}, ferr
		}
		return s.repeat(ctx, p, existing, req)
	} else if err != nil {
		return RunReport{}, fmt.Errorf("planning: unable to store preview %s: %w", doc.ID, err)
	}
	if err := s.prunePreviews(ctx, doc.SubDistrict); err != nil {
		// The preview is stored; an old one left over is pruned next time.
		s.logger.WarnContext(ctx, "planning: unable to prune previews", "sub_district", doc.SubDistrict, "err", err)
	}
	return report(doc, nil, true), nil
}

// prunePreviews deletes all but the newest PreviewsKept previews of sub.
// The filter is top-level string equality only, which the embedded
// engine answers from its index.
func (s *Service) prunePreviews(ctx context.Context, sub string) error {
	var docs []struct {
		ID string `bson:"_id"`
	}
	opts := options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}).
		SetSkip(PreviewsKept).SetProjection(bson.M{"_id": 1})
	if err := s.runs.FindAll(ctx, bson.M{"sub_district": sub, "state": RunPreview}, &docs, opts); err != nil {
		return err
	}
	if len(docs) == 0 {
		return nil
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	_, err := s.runs.DeleteMany(ctx, bson.M{"_id": bson.M{"$in": ids}, "state": RunPreview})
	return err
}

// repeatPreview answers a run id that names a stored preview: the same
// dry run gets the stored preview back; anything else is ECONFLICT.
func (s *Service) repeatPreview(ctx context.Context, doc *runDoc, req RunRequest) (RunReport, error) {
	if req.DryRun && doc.FiscalYear == req.FiscalYear && doc.SubDistrict == req.SubDistrict {
		return s.reportOf(ctx, doc)
	}
	return RunReport{}, minsheng.Errorf(minsheng.ECONFLICT, "运行编号 %s 已用于预览；确认分配请使用新的运行编号并注明所依据的预览", doc.ID)
}

// previewToCommit finds the preview req commits and checks that it may be:
// a preview of the same year and sub-district, not committed as another run.
func (s *Service) previewToCommit(ctx context.Context, p auth.Principal, req RunRequest) (*runDoc, error) {
	prev, err := s.findRun(ctx, req.FromPreview)
	if errors.Is(err, minsheng.ErrNotFound) {
		return nil, minsheng.Errorf(minsheng.ECONFLICT, "所依据的预览已不存在（只保留每个街道最近 %d 次预览），请重新预览", PreviewsKept)
	} else if err != nil {
		return nil, err
	}
	if !p.CanAccess(prev.SubDistrict, "") {
		return nil, minsheng.Errorf(minsheng.ECONFLICT, "所依据的预览已不存在（只保留每个街道最近 %d 次预览），请重新预览", PreviewsKept)
	}
	switch {
	case prev.State != RunPreview:
		return nil, minsheng.Invalid("分配测算请求有误", map[string]string{"from_preview": "不是预览"})
	case prev.FiscalYear != req.FiscalYear || prev.SubDistrict != req.SubDistrict:
		return nil, minsheng.Invalid("分配测算请求有误", map[string]string{"from_preview": "预览的年度或街道与本次不同"})
	case prev.CommittedAs != "" && prev.CommittedAs != req.RunID:
		return nil, minsheng.Errorf(minsheng.ECONFLICT, "该预览已确认分配（运行编号 %s），请重新预览", prev.CommittedAs)
	}
	return prev, nil
}

// claimPreview lets one run commit prev: the inputs must still be the
// preview's (digest), and a claim under the unique _id "preview/<id>"
// admits one run id; the same run id again (a retry) passes. The claim is
// made before the run is stored, so a losing copy stores nothing.
func (s *Service) claimPreview(ctx context.Context, prev *runDoc, runID, digest string) error {
	if prev.InputsDigest == "" || prev.InputsDigest != digest {
		return minsheng.Errorf(minsheng.ECONFLICT, "自预览（%s）以来预算项目资金、诉求或权重已有变化，请重新预览后再确认分配",
			prev.CreatedAt.In(s.zone).Format("01-02 15:04"))
	}
	claim := runItem{ID: "preview/" + prev.ID, RunID: runID, State: itemClaim, At: s.now()}
	if err := s.runItems.InsertOne(ctx, claim); errors.Is(err, minsheng.ErrDuplicate) {
		var held runItem
		if ferr := s.runItems.FindOne(ctx, bson.M{"_id": claim.ID}, &held); ferr != nil {
			return fmt.Errorf("planning: unable to read the claim on preview %s: %w", prev.ID, ferr)
		}
		if held.RunID != runID {
			return minsheng.Errorf(minsheng.ECONFLICT, "该预览已确认分配（运行编号 %s），请重新预览", held.RunID)
		}
	} else if err != nil {
		return fmt.Errorf("planning: unable to claim preview %s: %w", prev.ID, err)
	}
	// For people reading the preview; the claim is what decides.
	if _, err := s.runs.UpdateOne(ctx, bson.M{"_id": prev.ID}, bson.M{"$set": bson.M{"committed_as": runID}}); err != nil {
		return fmt.Errorf("planning: unable to mark preview %s committed: %w", prev.ID, err)
	}
	return nil
}

// itemClaim is the state of the run item that claims a preview for the
// run committing it; it is not an outcome of a need.
const itemClaim = "claim"
