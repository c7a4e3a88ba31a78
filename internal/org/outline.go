package org

// Outline is what a map needs to orient a user without map tiles: the
// district's boundary and the reference points of its sub-districts and
// communities (WGS-84). It holds no figures, phones or personal data, so
// it is served publicly.
type Outline struct {
	Code         string         `json:"code"`
	Name         string         `json:"name"`
	Datum        string         `json:"datum"`
	Boundary     []Point        `json:"boundary"`
	SubDistricts []OutlinePlace `json:"sub_districts"`
	Communities  []OutlinePlace `json:"communities"`
}

// OutlinePlace is a named reference point of the outline; Parent is a
// community's sub-district code ("" for a sub-district).
type OutlinePlace struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
	Center Point  `json:"center"`
}

// OutlineDatum is the datum of every point in the directory and in its
// Outline: WGS-84, as browsers report positions (Point).
const OutlineDatum = "wgs84"

// Outline returns the district's map outline; places without a reference
// point are left out (a map cannot place them).
func (d *Directory) Outline() Outline {
	o := Outline{Code: d.district.Code, Name: d.district.Name, Datum: OutlineDatum,
		Boundary: append([]Point{}, d.district.Boundary...), SubDistricts: []OutlinePlace{}, Communities: []OutlinePlace{}}
	for _, s := range d.district.SubDistricts {
		if s.Center != nil {
			o.SubDistricts = append(o.SubDistricts, OutlinePlace{Code: s.Code, Name: s.Name, Center: *s.Center})
		}
		for _, c := range s.Communities {
			if c.Center != nil {
				o.Communities = append(o.Communities, OutlinePlace{Code: c.Code, Name: c.Name, Parent: s.Code, Center: *c.Center})
			}
		}
	}
	return o
}
