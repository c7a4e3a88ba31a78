package mobileapi

import (
	"encoding/json"

	"minsheng/cases"
	"minsheng/internal/auth"
)

// caseView is a case as the app shows it: the case — which carries, as on
// /api/v1, the steps the caller may take now with their labels and the
// running deadline with its text (cases/labels.go) — funding, labelled
// timeline entries and names for codes.
type caseView struct {
	*cases.Case
	Timeline        []eventView   `json:"timeline"`
	Funding         cases.Funding `json:"funding"`
	CommunityName   string        `json:"community_name"`
	SubDistrictName string        `json:"sub_district_name"`
	AssignedToMe    bool          `json:"assigned_to_me"`
	Photos          []photoView   `json:"photos"`
	// LocationDatum is the datum of location.lat/lng (wgs84 for positions
	// stored before cases kept it), with its label; empty without a position.
	LocationDatum      string `json:"location_datum,omitempty"`
	LocationDatumLabel string `json:"location_datum_label,omitempty"`
}

// eventView is a timeline entry with its labels; action_label is the
// case's own (cases.TimelineLabel), as on /api/v1.
type eventView struct {
	cases.Event
	Label   string `json:"label"`
	ToLabel string `json:"to_label,omitempty"`
}

type photoView struct {
	cases.Photo
	TagLabel string `json:"tag_label"`
}

func (a API) view(p auth.Principal, c *cases.Case) caseView {
	v := caseView{
		Case:         c,
		Timeline:     make([]eventView, len(c.Timeline)),
		Funding:      cases.FundingOf(c),
		AssignedToMe: c.AssignedTo != "" && c.AssignedTo == p.UserID,
		Photos:       make([]photoView, len(c.Photos)),
	}
	// Each step the case offers carries the state it leads to and the
	// steps after it (cases.ActionsAhead), so the app queues a chain of
	// steps offline on the server's table (on a copy: c is the caller's).
	if len(c.Actions) > 0 {
		ahead := map[cases.Action]cases.ActionOption{}
		for _, o := range cases.ActionsAhead(p, c) {
			ahead[o.Action] = o
		}
		acts := make([]cases.ActionOption, len(c.Actions))
		for i, o := range c.Actions {
			if x, ok := ahead[o.Action]; ok {
				o.To, o.ToLabel, o.Then = x.To, x.ToLabel, x.Then
			}
			acts[i] = o
		}
		cp := *c
		cp.Actions = acts
		v.Case = &cp
	}
	if d := cases.DatumOf(c.Location); d != "" {
		v.LocationDatum, v.LocationDatumLabel = d, cases.DatumLabel(d)
	}
	for i, e := range c.Timeline {
		ev := eventView{Event: e, Label: cases.EventLabel(e)}
		if e.To != "" {
			ev.ToLabel = e.To.Label()
		}
		v.Timeline[i] = ev
	}
	for i, ph := range c.Photos {
		v.Photos[i] = photoView{Photo: ph, TagLabel: ph.Tag.Label()}
	}
	if a.Org != nil {
		if cm, err := a.Org.Community(c.Location.Community); err == nil {
			v.CommunityName = cm.Name
		}
		if sd, err := a.Org.SubDistrict(c.Location.SubDistrict); err == nil {
			v.SubDistrictName = sd.Name
		}
	}
	return v
}

func (a API) views(p auth.Principal, list []*cases.Case) []caseView {
	out := make([]caseView, len(list))
	for i, c := range list {
		out[i] = a.view(p, c)
	}
	return out
}

// The embedded *cases.Case encodes itself (cases redacts a public view in
// its MarshalJSON), and that method is promoted to every struct embedding
// it, which would drop the fields added here. So each view encodes the
// case first and lays its own fields over it.

// caseExtra is caseView without the embedded case.
type caseExtra struct {
	Timeline        []eventView   `json:"timeline"`
	Funding         cases.Funding `json:"funding"`
	CommunityName   string        `json:"community_name"`
	SubDistrictName string        `json:"sub_district_name"`
	AssignedToMe    bool          `json:"assigned_to_me"`
	Photos          []photoView   `json:"photos"`
	// LocationDatum is the datum of location.lat/lng (wgs84 for positions
	// stored before cases kept it), with its label; empty without a position.
	LocationDatum      string `json:"location_datum,omitempty"`
	LocationDatumLabel string `json:"location_datum_label,omitempty"`
}

// MarshalJSON is the case's own encoding with the view's fields over it.
func (v caseView) MarshalJSON() ([]byte, error) {
	return overlayJSON(v.Case, caseExtra{
		Timeline: v.Timeline, Funding: v.Funding,
		CommunityName: v.CommunityName, SubDistrictName: v.SubDistrictName, AssignedToMe: v.AssignedToMe, Photos: v.Photos,
		LocationDatum: v.LocationDatum, LocationDatumLabel: v.LocationDatumLabel,
	})
}

// overlayJSON encodes base and lays the top-level fields of extra over it.
func overlayJSON(base, extra any) ([]byte, error) {
	b, err := json.Marshal(base)
	if err != nil {
		return nil, err
	}
	fields := map[string]json.RawMessage{}
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, err
	}
	e, err := json.Marshal(extra)
	if err != nil {
		return nil, err
	}
	var over map[string]json.RawMessage
	if err := json.Unmarshal(e, &over); err != nil {
		return nil, err
	}
	for k, v := range over {
		fields[k] = v
	}
	return json.Marshal(fields)
}
