package cases

// The bodies of the case steps as both HTTP APIs take them (/api/v1's
// POST /cases/:id/<step>, /mobile/v1's POST /cases/:id/actions/<step>):
// one table, so a field added to a step is added for both. Each states the
// Version the client read (httpkit.RequireVersion checks it); the decoder
// refuses unknown fields.
type (
	// NoteInput is the body of accept and start.
	NoteInput struct {
		Version *int64 `json:"version"`
		Note    string `json:"note"`
	}
	// ReasonInput is the body of reject and cancel.
	ReasonInput struct {
		Version *int64 `json:"version"`
		Reason  string `json:"reason"`
	}
	// MergeInput is the body of merge (/api/v1 only).
	MergeInput struct {
		Version *int64 `json:"version"`
		Into    string `json:"into"`
		Note    string `json:"note"`
	}
	// AssignInput is the body of assign.
	AssignInput struct {
		Version *int64 `json:"version"`
		CadreID string `json:"cadre_id"`
		Note    string `json:"note"`
	}
	// AssessInput is the body of assess.
	AssessInput struct {
		Version     *int64 `json:"version"`
		EstimateFen int64  `json:"estimate_fen"`
		Households  int    `json:"households"`
		Risk        int    `json:"risk"`
		Elderly     int    `json:"elderly"`
		Disabled    int    `json:"disabled"`
		Note        string `json:"note"`
	}
	// CompleteInput is the body of complete.
	CompleteInput struct {
		Version       *int64 `json:"version"`
		ActualCostFen int64  `json:"actual_cost_fen"`
		Note          string `json:"note"`
	}
	// VerdictInput is the body of a verdict (the resident's 评价), on
	// every route that takes one.
	VerdictInput struct {
		Version  *int64 `json:"version"`
		Verdict  string `json:"verdict"`
		Resolved *bool  `json:"resolved"`
		Comment  string `json:"comment"`
	}
)

// Assessment is the assessment the body states.
func (b AssessInput) Assessment() Assessment {
	return Assessment{EstimateFen: b.EstimateFen, Households: b.Households, Risk: b.Risk,
		Elderly: b.Elderly, Disabled: b.Disabled, Note: b.Note}
}

// Rating is the verdict the body states.
func (b VerdictInput) Rating() Rating {
	return Rating{Verdict: Verdict(b.Verdict), Resolved: b.Resolved, Comment: b.Comment}
}
