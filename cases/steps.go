package cases

import "minsheng/cases/caseinput"

// The bodies of the case actions as both HTTP APIs take them are package
// caseinput's (one table, so a field added to an action is added for both);
// the verdict's, which states the verdict rule's Rating, are here.
type (
	FilingInput       = caseinput.FilingInput
	WebFilingInput    = caseinput.WebFilingInput
	OutboxFilingInput = caseinput.OutboxFilingInput
	NoteInput         = caseinput.NoteInput
	ReasonInput       = caseinput.ReasonInput
	MergeInput        = caseinput.MergeInput
	AssignInput       = caseinput.AssignInput
	CosignInput       = caseinput.CosignInput
	AssessInput       = caseinput.AssessInput
	ProposalInput     = caseinput.ProposalInput
	CompleteInput     = caseinput.CompleteInput
)

// VerdictInput is the body of a verdict (the resident's 评价), on
// every route that takes one.
type VerdictInput struct {
	Version  *int64 `json:"version"`
	Verdict  string `json:"verdict"`
	Resolved *bool  `json:"resolved"`
	Comment  string `json:"comment"`
}

// TrackVerdictInput is a verdict given through an anonymous filer's
// tracking link: the link (number and token) is the caller's only
// credential.
type TrackVerdictInput struct {
	VerdictInput
	Number string `json:"number"`
	Token  string `json:"token"`
}

// Rating is the verdict the body states.
func (b VerdictInput) Rating() Rating {
	return Rating{Verdict: Verdict(b.Verdict), Resolved: b.Resolved, Comment: b.Comment}
}
