package demo

import (
	"minsheng/internal/org"
)

// lineSpec is one budget line to create: an item and its approved amount.
type lineSpec struct {
	item string
	fen  int64
	// extra marks a line only the demo's cases need.
	extra bool
}

const yuan = 100 // fen

// courtyards are the sub-districts of the old city's single-storey
// courtyards (平房院落), where dry toilets and uneven ground are still met.
var courtyards = map[string]bool{
	"xichanganjie": true, "xinjiekou": true, "jinrongjie": true, "shichahai": true, "dashilan": true,
	"tianqiao": true, "chunshu": true, "taoranting": true, "guanganmennei": true, "niujie": true,
}

// lineSpecs is a sub-district's budget: personnel by actual cost, running
// costs by quota, projects by fiscal capacity (人员经费按实际，公用经费按定额，
// 项目经费依财力). The amounts are DEMO FIGURES derived from the sub-district's
// population, area and communities — plausible in size, not published.
// A sub-district also gets a line for every item its cases need money from
// (needed, sorted).
func lineSpecs(sd org.SubDistrict, needed []string) []lineSpec {
	pop, comms := sd.Population, int64(len(sd.Communities))
	staff := 50 + pop/2000
	km2Milli := sd.AreaKM2Milli
	specs := []lineSpec{
		// 人员经费按实际
		{"ZH-01-01", staff * 260_000 * yuan, false},
		{"ZH-01-02", staff * 72_000 * yuan, false},
		{"SQ-01-01", comms * 9 * 135_000 * yuan, false},
		// 公用经费按定额: quota × units (catalog fy quotas)
		{"ZH-02-01", staff * 15_000 * yuan, false},
		{"SQ-02-01", comms * 50_000 * yuan, false},
		{"SQ-03-05", pop / 15 * 20 * yuan, false},
		{"CG-01-01", km2Milli * 60 * 12 * yuan, false},      // 6% of the area swept, 12 元/m²·年
		{"CG-01-02", pop / 180 * 650 * yuan, false},         // tonnes of bulky waste, 650 元/吨
		{"MS-02-01", (comms/4 + 1) * 200_000 * yuan, false}, // stations, 20 万元/个·年
		{"MS-02-02", pop * 2 * 3 * yuan, false},             // meals, 3 元/餐
		// 项目经费依财力
		{"CG-02-01", 800_000*yuan + km2Milli*300*yuan, false},
		{"SQ-03-02", 200_000*yuan + comms*20_000*yuan, false},
		{"PA-02-01", 150_000*yuan + pop*yuan, false},
	}
	if courtyards[sd.Code] {
		specs = append(specs,
			lineSpec{"SQ-05-03", 1_200_000*yuan + comms*100_000*yuan, false},
			lineSpec{"SQ-05-04", (6 + comms/3) * 50_000 * yuan, false}, // 座, 5 万元/座
		)
	} else {
		specs = append(specs, lineSpec{"SQ-05-01", 5_000_000*yuan + pop*20*yuan, false})
	}
	have := map[string]bool{}
	for _, sp := range specs {
		have[sp.item] = true
	}
	for _, item := range needed {
		if have[item] {
			continue
		}
		have[item] = true
		if item == tplElevator.item {
			specs = append(specs, lineSpec{item, 1_000_000 * yuan, true}) // one elevator's worth: the rest wait
		} else {
			specs = append(specs, lineSpec{item, 100_000 * yuan, true})
		}
	}
	return specs
}
