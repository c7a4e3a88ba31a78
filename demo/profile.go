package demo

import (
	"math"
	"math/rand/v2"
	"slices"

	"minsheng/internal/org"
)

// profile is how one sub-district's year went: how many cases its
// residents filed for its population, how its staff answered them, how the
// residents rated the work, and which requests its streets make. Drawn
// from the seed and the sub-district's code, so every sub-district differs
// from the others and the same seed gives the same district.
type profile struct {
	// activity scales the volume a population alone would give (0.8–1.25).
	activity float64
	// late is the share of cases accepted after their response deadline.
	late float64
	// basic is the share of verdicts that are 基本满意 rather than 满意;
	// unresolved the share of those answering "问题未解决".
	basic, unresolved float64
	// kindMul scales baseCounts: more rework here, fewer rejections there.
	kindMul [numKinds]float64
	// areaPct is how often each area's requests are drawn, in per cent.
	areaPct []areaWeight
}

type areaWeight struct {
	area string
	pct  int
}

// areaWeights is the district-wide mix of requests by area, in per cent;
// each sub-district's profile varies it.
var areaWeights = []areaWeight{{"SQ", 30}, {"CG", 28}, {"MS", 16}, {"PA", 12}, {"DQ", 7}, {"ZH", 7}}

// defaultCasesPerSubDistrict is the plan's average: 13 × 15 sub-districts
// and the floors give about 230 cases (about 2 per 10,000 residents before
// each profile's activity), which seeds within two minutes. Volumes follow
// org.SubDistrict.Population, the one home of the populations (see
// internal/org/xicheng.go for where they come from).
const defaultCasesPerSubDistrict = 13

// minCasesPerSubDistrict keeps a small sub-district's board and rates
// meaningful; 金融街 holds the article's examples and the browser tests'
// cases, so it gets at least minCasesJinrongjie.
const (
	minCasesPerSubDistrict = 8
	minCasesJinrongjie     = 26
)

// quietQueue names the sub-district whose queue the demo leaves with
// nothing waiting for staff (no unanswered case, none assessed and waiting
// for a run, nothing answered late): 西长安街, where the console's browser
// test builds its own case and counts the 待受理 queue and the allocation
// run's result (e2e/browser/console.test.mjs).
const quietQueue = "xichanganjie"

// waitingKinds are the kinds a quiet queue does not hold.
var waitingKinds = []kind{kSubmittedFresh, kSubmittedLate, kAssessedWaiting, kRunWaitlisted}

// profileOf draws sd's profile from the seed.
func profileOf(seed uint64, sd org.SubDistrict) profile {
	var h uint64 = 1469598103934665603 // FNV-1a of the code: a stream per sub-district
	for _, b := range []byte(sd.Code) {
		h = (h ^ uint64(b)) * 1099511628211
	}
	r := rand.New(rand.NewPCG(seed, h))
	between := func(lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }
	p := profile{
		activity:   between(0.8, 1.25),
		late:       between(0.02, 0.22),
		basic:      between(0.15, 0.6),
		unresolved: between(0.2, 0.8),
	}
	for k := range numKinds {
		p.kindMul[k] = between(0.6, 1.5)
	}
	// What differs most between sub-districts: rework, rejections,
	// cancellations and how much is still open.
	p.kindMul[kReopenClosed] = between(0.1, 2.5)
	p.kindMul[kReopenOpen] = between(0, 2.5)
	p.kindMul[kRejected] = between(0.2, 2)
	p.kindMul[kCancelled] = between(0.2, 2)
	p.kindMul[kClosed] = between(0.8, 1.6)
	if sd.Code == quietQueue {
		p.late = 0
		for _, k := range waitingKinds {
			p.kindMul[k] = 0
		}
	}
	// Old-city courtyards ask for toilets, ground and drains; the
	// estates of the newer sub-districts for elderly care and safety.
	for _, w := range areaWeights {
		pct := float64(w.pct) * between(0.7, 1.3)
		switch {
		case courtyards[sd.Code] && (w.area == "SQ" || w.area == "CG"):
			pct *= 1.25
		case !courtyards[sd.Code] && (w.area == "MS" || w.area == "PA"):
			pct *= 1.4
		}
		p.areaPct = append(p.areaPct, areaWeight{w.area, max(1, int(math.Round(pct)))})
	}
	return p
}

// caseCount is how many cases sd gets: in proportion to its population,
// scaled by its activity and by avg, the plan's average per sub-district.
func caseCount(sd org.SubDistrict, p profile, avg int, meanPop float64) int {
	n := int(math.Round(float64(avg) * float64(sd.Population) / meanPop * p.activity))
	n = max(n, minCasesPerSubDistrict)
	if sd.Code == "jinrongjie" {
		n = max(n, minCasesJinrongjie)
	}
	return n
}

// required are the kinds every sub-district holds whatever its size, so
// each board shows money spent on finished work and each run funds some.
var required = []kind{kClosed, kClosed, kLinkedClosed, kRunClosed}

// articleKinds are the kinds articleExamples pins in 金融街.
var articleKinds = []kind{kLinkedClosed, kLinkedClosed, kRunCompleted, kRunInProgress, kClosed, kSubmittedFresh}

// kindsOf is the kinds of sd's n cases: the required ones, then the rest
// shared out by the profile's weights (largest remainder), in plan order.
func kindsOf(sd org.SubDistrict, p profile, n int) []kind {
	var out []kind
	if sd.Code == "jinrongjie" {
		out = append(out, articleKinds...)
	}
	for _, k := range required {
		if len(out) < n && (sd.Code != "jinrongjie" || !slices.Contains(articleKinds, k)) {
			out = append(out, k)
		}
	}
	// Rework, where the profile has much of it: a case rated 不满意 and
	// reworked, or still being reworked.
	if len(out) < n && p.kindMul[kReopenClosed] > 1.2 {
		out = append(out, kReopenClosed)
	}
	if len(out) < n && p.kindMul[kReopenOpen] > 1.2 {
		out = append(out, kReopenOpen)
	}
	rest := n - len(out)
	if rest <= 0 {
		return out[:n]
	}
	var w [numKinds]float64
	var total float64
	for k := range numKinds {
		w[k] = float64(baseCounts[k]) * p.kindMul[k]
		total += w[k]
	}
	type share struct {
		k   kind
		rem float64
	}
	var shares []share
	given := 0
	for k := range numKinds {
		exact := w[k] / total * float64(rest)
		whole := int(exact)
		for range whole {
			out = append(out, k)
		}
		given += whole
		if w[k] > 0 {
			shares = append(shares, share{k, exact - float64(whole)})
		}
	}
	slices.SortStableFunc(shares, func(a, b share) int {
		switch {
		case a.rem > b.rem:
			return -1
		case a.rem < b.rem:
			return 1
		}
		return 0
	})
	for i := 0; given < rest; i++ {
		out = append(out, shares[i%len(shares)].k)
		given++
	}
	return out
}

// districtPlan is the kinds of every chosen sub-district's cases.
func districtPlan(dir *org.Directory, opts Options) map[string][]kind {
	var pop float64
	for _, code := range opts.SubDistricts {
		sd, _ := dir.SubDistrict(code)
		pop += float64(sd.Population)
	}
	meanPop := pop / float64(len(opts.SubDistricts))
	out := map[string][]kind{}
	for _, code := range opts.SubDistricts {
		sd, _ := dir.SubDistrict(code)
		p := profileOf(opts.Seed, sd)
		out[code] = kindsOf(sd, p, caseCount(sd, p, opts.CasesPerSubDistrict, meanPop))
	}
	return out
}
