package org

import (
	"math"
	"regexp"

	"minsheng"
)

// Point is a position in WGS-84 degrees, the datum phone browsers report
// (navigator.geolocation); reference points are held in the same datum so
// a resident's position is compared without conversion.
type Point struct {
	Lat float64 `json:"lat"`
	Lng float64 `json:"lng"`
}

// Located is the community a position falls in: the nearest community
// reference point inside the district, and how far away it is.
type Located struct {
	SubDistrictCode string    `json:"sub_district_code"`
	SubDistrictName string    `json:"sub_district_name"`
	Community       Community `json:"community"`
	// DistanceM is the distance to the community's reference point in metres.
	DistanceM int64 `json:"distance_m"`
}

// maxLocateM is how far from the nearest reference point a position may be
// and still be said to lie in that community, for districts without a
// boundary; with one, the boundary decides.
const maxLocateM = 3000

// officePhoneRe accepts a landline with its area code (010-66012345). A
// mobile number never matches: an office phone is never a person's phone.
var officePhoneRe = regexp.MustCompile(`^0[1-9][0-9]{1,2}-[2-9][0-9]{6,7}$`)

// ValidOfficePhone reports whether s is a landline in the form the
// directory holds office phones (区号-号码).
func ValidOfficePhone(s string) bool { return officePhoneRe.MatchString(s) }

// Locate returns the community whose reference point is nearest to p, when
// p lies inside the district. Errors: EINVALID for a position that is not
// one or lies outside the district, ENOTFOUND when no community has a
// reference point.
func (d *Directory) Locate(p Point) (Located, error) {
	if math.IsNaN(p.Lat) || math.IsNaN(p.Lng) || p.Lat < -90 || p.Lat > 90 || p.Lng < -180 || p.Lng > 180 {
		return Located{}, minsheng.Invalid("位置无效", map[string]string{"lat": "须为 -90 到 90 的纬度", "lng": "须为 -180 到 180 的经度"})
	}
	outside := minsheng.Errorf(minsheng.EINVALID, "您所在的位置不在%s范围内，请手动选择街道和社区", d.district.Name)
	if len(d.district.Boundary) >= 3 && !inPolygon(p, d.district.Boundary) {
		return Located{}, outside
	}
	var best Located
	found := false
	for _, s := range d.district.SubDistricts {
		for _, c := range s.Communities {
			if c.Center == nil {
				continue
			}
			m := distanceM(p, *c.Center)
			if !found || m < best.DistanceM {
				best = Located{SubDistrictCode: s.Code, SubDistrictName: s.Name, Community: cloneCommunity(c), DistanceM: m}
				found = true
			}
		}
	}
	if !found {
		return Located{}, minsheng.Errorf(minsheng.ENOTFOUND, "暂无社区位置资料，请手动选择街道和社区")
	}
	if len(d.district.Boundary) < 3 && best.DistanceM > maxLocateM {
		return Located{}, outside
	}
	return best, nil
}

// distanceM is the great-circle distance in whole metres (haversine).
func distanceM(a, b Point) int64 {
	const earthM = 6371008.8
	rad := math.Pi / 180
	dLat, dLng := (b.Lat-a.Lat)*rad, (b.Lng-a.Lng)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLng/2)*math.Sin(dLng/2)
	return int64(math.Round(2 * earthM * math.Asin(math.Sqrt(min(1, h)))))
}

// inPolygon is the even-odd ray test; at a district's scale the degrees
// may be treated as plane coordinates.
func inPolygon(p Point, poly []Point) bool {
	in := false
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		a, b := poly[i], poly[j]
		if (a.Lat > p.Lat) != (b.Lat > p.Lat) && p.Lng < (b.Lng-a.Lng)*(p.Lat-a.Lat)/(b.Lat-a.Lat)+a.Lng {
			in = !in
		}
	}
	return in
}

func checkPoint(level, code string, p *Point) error {
	if p == nil {
		return nil
	}
	if math.IsNaN(p.Lat) || math.IsNaN(p.Lng) || p.Lat < -90 || p.Lat > 90 || p.Lng < -180 || p.Lng > 180 {
		return minsheng.Errorf(minsheng.EINVALID, "%s %s 的位置无效", level, code)
	}
	return nil
}

func checkOfficePhone(level, code, phone string) error {
	if phone != "" && !ValidOfficePhone(phone) {
		return minsheng.Errorf(minsheng.EINVALID, "%s %s 的办公电话须为座机号码（如 010-66012345）：%q", level, code, phone)
	}
	return nil
}
