package demo

import (
	"math"
	"math/rand/v2"

	"minsheng/cases"
	"minsheng/internal/org"
)

// maxJitterM is how far from its community's reference point a demo case
// is placed: a courtyard or building a few streets away.
const maxJitterM = 250

// place gives the filing a WGS-84 position near its community's reference
// point, as a phone's Geolocation would, for most cases: residents file
// from their phones (nearly always placed), a cadre filing for a resident
// at the desk often has no position. The draw has its own stream per case
// (seed and index), so adding positions changes nothing else the plan
// draws. The point is kept where org.Locate — the one home of "which
// community is this point in" — answers the case's own community: a
// jittered point that would fall to a neighbour is pulled towards the
// centre, down to the centre itself.
func place(dir *org.Directory, seed uint64, p *casePlan, atDesk bool, in *cases.NewCase) {
	if p.comm.Center == nil {
		return
	}
	r := rand.New(rand.NewPCG(seed, uint64(p.idx)^0x706c616365))
	share := 0.95
	if atDesk {
		share = 0.55
	}
	if r.Float64() >= share {
		return
	}
	c := *p.comm.Center
	dist := maxJitterM * math.Sqrt(r.Float64())
	angle := 2 * math.Pi * r.Float64()
	acc := 5 + r.IntN(46)
	pt := c
	for ; dist >= 1; dist /= 2 {
		pt = offset(c, dist, angle)
		if got, err := dir.Locate(pt); err == nil && got.Community.Code == p.comm.Code {
			break
		}
	}
	if dist < 1 {
		pt = c
	}
	lat, lng := pt.Lat, pt.Lng
	in.Lat, in.Lng, in.Datum, in.AccuracyM = &lat, &lng, cases.DatumWGS84, &acc
}

// offset is p moved dist metres in direction angle (radians from east);
// at a district's scale the earth is flat.
func offset(p org.Point, dist, angle float64) org.Point {
	const mPerDegLat = 111320.0
	dLat := dist * math.Sin(angle) / mPerDegLat
	dLng := dist * math.Cos(angle) / (mPerDegLat * math.Cos(p.Lat*math.Pi/180))
	return org.Point{Lat: round6(p.Lat + dLat), Lng: round6(p.Lng + dLng)}
}

// round6 keeps six decimals (about 0.1 m), what a phone reports.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }
