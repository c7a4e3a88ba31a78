package caseinput

// The bodies of the case actions as both HTTP APIs take them (/api/v1's
// POST /cases and POST /cases/:id/<step>, /mobile/v1's PUT /cases/:uuid
// and POST /cases/:id/actions/<step>): one table, so a field added to an
// action is added for both, and neither API declares a body of its own.
// Each step states the Version the client read (httpkit.RequireVersion
// checks it); the decoder refuses unknown fields.
type (
	// FilingInput is the part of a filing both APIs take; each adds the
	// fields only it accepts (WebFilingInput, OutboxFilingInput).
	FilingInput struct {
		Area        string `json:"area"`
		Title       string `json:"title"`
		Description string `json:"description"`
		// Community is needed from staff only; a cadre files in their own
		// community.
		Community    string   `json:"community"`
		Address      string   `json:"address"`
		Lat          *float64 `json:"lat"`
		Lng          *float64 `json:"lng"`
		ContactName  string   `json:"contact_name"`
		ContactPhone string   `json:"contact_phone"`
		Households   int      `json:"households"`
		ResidentID   string   `json:"resident_id"`
	}
	// WebFilingInput is the body of /api/v1's POST /cases: residents,
	// staff and anonymous filers choose the sub-district and 公开.
	WebFilingInput struct {
		FilingInput
		SubDistrict string `json:"sub_district"`
		Public      bool   `json:"public"`
	}
	// OutboxFilingInput is the body of /mobile/v1's PUT /cases/:uuid, a
	// case a cadre files from the phone's outbox.
	OutboxFilingInput struct {
		FilingInput
		// Datum is the datum of lat/lng: "wgs84" (the default, what the
		// browser's Geolocation API gives) or "gcj02" (a Chinese map
		// SDK's); the case keeps it in location.datum.
		Datum string `json:"datum"`
		// GPSAccuracy is the phone's accuracy in metres; the case keeps it
		// in location.accuracy_m.
		GPSAccuracy *int `json:"gps_accuracy"`
	}
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
	// CosignInput is the optional body of cosign: a +1 never conflicts
	// with the staff's work, so the version, if sent, is ignored.
	CosignInput struct {
		Version *int64 `json:"version"`
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
	// ProposalInput is /mobile/v1's assess: the assessment plus the
	// catalog item the cadre proposes (the sub-district confirms
	// classification, so it goes in the note).
	ProposalInput struct {
		AssessInput
		CatalogItem string `json:"catalog_item"`
	}
	// CompleteInput is the body of complete.
	CompleteInput struct {
		Version       *int64 `json:"version"`
		ActualCostFen int64  `json:"actual_cost_fen"`
		Note          string `json:"note"`
	}
)

// NewCase is the filing the body states, under the client's key.
func (b WebFilingInput) NewCase(idempotencyKey string) NewCase {
	in := b.FilingInput.NewCase(idempotencyKey)
	in.SubDistrict, in.Public = b.SubDistrict, b.Public
	return in
}

// NewCase is the filing the body states, under the client's key.
func (b OutboxFilingInput) NewCase(idempotencyKey string) NewCase {
	in := b.FilingInput.NewCase(idempotencyKey)
	in.Datum, in.AccuracyM = b.Datum, b.GPSAccuracy
	return in
}

// NewCase is the filing the common fields state, under the client's key.
func (b FilingInput) NewCase(idempotencyKey string) NewCase {
	return NewCase{
		Area: b.Area, Title: b.Title, Description: b.Description, Community: b.Community, Address: b.Address,
		Lat: b.Lat, Lng: b.Lng, ContactName: b.ContactName, ContactPhone: b.ContactPhone, Households: b.Households,
		ResidentID: b.ResidentID, IdempotencyKey: idempotencyKey,
	}
}

// Assessment is the assessment the body states.
func (b AssessInput) Assessment() Assessment {
	return Assessment{EstimateFen: b.EstimateFen, Households: b.Households, Risk: b.Risk,
		Elderly: b.Elderly, Disabled: b.Disabled, Note: b.Note}
}

// Assessment is what a cadre found on site (现场评估).
type Assessment struct {
	EstimateFen int64 `bson:"estimate_fen" json:"estimate_fen"`
	Households  int   `bson:"households" json:"households"`
	Risk        int   `bson:"risk" json:"risk"` // 1 低, 2 中, 3 高
	// Elderly and Disabled count the vulnerable residents affected
	// (老年人, 残疾人), seen on site; allocation gives them priority.
	Elderly  int    `bson:"elderly" json:"elderly"`
	Disabled int    `bson:"disabled" json:"disabled"`
	Note     string `bson:"note,omitempty" json:"note,omitempty"`
	// ProposedItem is the catalog item the cadre proposes (/mobile/v1's
	// catalog_item) with its name; the sub-district confirms it
	// (ActCatalog), until then the funding says it waits for them.
	ProposedItem     string `bson:"proposed_item,omitempty" json:"proposed_item,omitempty"`
	ProposedItemName string `bson:"proposed_item_name,omitempty" json:"proposed_item_name,omitempty"`
}
