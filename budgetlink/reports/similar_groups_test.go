package reports

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"minsheng/internal/textsim"
)

// naiveMatters is matterGroups written the plain way: every distinct text,
// most repeated first, compared with textsim.Similarity against every
// leader so far.
func naiveMatters(texts []string, threshold int) [][]int {
	var distinct []string
	idx := map[string][]int{}
	for i, t := range texts {
		if _, ok := idx[t]; !ok {
			distinct = append(distinct, t)
		}
		idx[t] = append(idx[t], i)
	}
	slices.SortStableFunc(distinct, func(a, b string) int { return len(idx[b]) - len(idx[a]) })
	var leaders []string
	groups := map[string][]int{}
	for _, t := range distinct {
		if len(textsim.Bigrams(t)) == 0 {
			continue
		}
		best, bestScore := "", -1
		for _, l := range leaders {
			if s := textsim.Similarity(t, l); s >= threshold && s > bestScore {
				best, bestScore = l, s
			}
		}
		if best == "" {
			leaders = append(leaders, t)
			best = t
		}
		groups[best] = append(groups[best], idx[t]...)
	}
	var out [][]int
	for _, g := range groups {
		if len(g) > 1 {
			slices.Sort(g)
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b []int) int { return a[0] - b[0] })
	return out
}

// matterGroups gives the plain comparison's groups on seeded random texts
// over a small alphabet (many shared bigrams, copies, one-letter runs,
// full-width letters) at thresholds including the integer Dice test's
// boundaries.
func TestMatterGroupsMatchesNaive(t *testing.T) {
	alphabet := []rune("灯路楼道号垃圾清运停车 ，,AaＡ1１2·")
	for seed := range int64(6) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 7))
			texts := make([]string, 400)
			for i := range texts {
				if i > 0 && rng.IntN(5) == 0 {
					texts[i] = texts[rng.IntN(i)]
					continue
				}
				r := make([]rune, rng.IntN(9))
				for k := range r {
					r[k] = alphabet[rng.IntN(len(alphabet))]
				}
				texts[i] = string(r)
			}
			for _, threshold := range []int{1, 333, 400, 499, 500, 666, 667, 800, 999, 1000} {
				got, want := matterGroups(texts, threshold), naiveMatters(texts, threshold)
				if len(want) == 0 {
					t.Fatalf("threshold %d: no groups: the corpus tests nothing", threshold)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("threshold %d: got %d groups, want %d\n got %v\nwant %v", threshold, len(got), len(want), got, want)
				}
			}
		})
	}
}

// A chain of near pairs does not join unrelated matters: each text is
// compared with its matter's leading text, not with its neighbours (issue
// 23 item 5: single linkage joined six items into one group).
func TestMatterGroupsDoNotChain(t *testing.T) {
	texts := []string{
		"大件垃圾清运", "大件垃圾清运", "大件垃圾清运", // the leader
		"大件垃圾清运处置",         // like the leader
		"清运处置费用结算",         // like the one before (428), not the leader (166)
		"处置费用结算审核",         // like the one before
		"楼道堆物清理", "楼道堆物清理", // its own matter
	}
	got := matterGroups(texts, DefaultConsistencyThreshold)
	for _, g := range got {
		for _, i := range g {
			if textsim.Similarity(texts[i], texts[g[0]]) < DefaultConsistencyThreshold {
				t.Errorf("group %v: %q is not like its leader %q", g, texts[i], texts[g[0]])
			}
		}
	}
	if want := []int{0, 1, 2, 3}; len(got) == 0 || !reflect.DeepEqual(got[0], want) {
		t.Errorf("groups = %v, want the bulky-waste matter %v first", got, want)
	}
}
