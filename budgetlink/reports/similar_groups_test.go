package reports

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"minsheng/internal/textsim"
)

// pairwiseGroups is similarGroups as it was before distinct texts were
// compared once: every text against every text sharing a bigram.
func pairwiseGroups(texts []string, threshold int) [][]int {
	grams := make([]map[string]struct{}, len(texts))
	index := map[string][]int{}
	for i, text := range texts {
		grams[i] = textsim.Bigrams(text)
		for g := range grams[i] {
			index[g] = append(index[g], i)
		}
	}
	parent := make([]int, len(texts))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i := range texts {
		seen := map[int]bool{}
		for g := range grams[i] {
			for _, j := range index[g] {
				if j <= i || seen[j] {
					continue
				}
				seen[j] = true
				if find(i) != find(j) && textsim.Dice(grams[i], grams[j]) >= threshold {
					parent[find(j)] = find(i)
				}
			}
		}
	}
	byRoot := map[int][]int{}
	for i := range texts {
		r := find(i)
		byRoot[r] = append(byRoot[r], i)
	}
	var out [][]int
	for _, g := range byRoot {
		if len(g) > 1 {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b []int) int { return a[0] - b[0] })
	return out
}

// similarGroups gives the groups the pairwise comparison gave, on texts
// with many copies, near copies, empty texts (all boilerplate, never
// joined, not even to each other) and one-letter texts, at several
// thresholds.
func TestSimilarGroupsMatchesPairwise(t *testing.T) {
	bases := []string{"大件垃圾清运", "清运旧沙发等大件垃圾", "垃圾分类驿站", "楼道照明损坏", "路灯不亮", "小区停车难", "停车自治", "", "  ", "A", "a", "旱厕改造"}
	var texts []string
	for i := range 600 {
		b := bases[i%len(bases)]
		switch i % 7 {
		case 0, 3:
			texts = append(texts, b)
		case 1:
			texts = append(texts, fmt.Sprintf("%s %d号楼", b, i%13))
		case 2:
			texts = append(texts, b+"问题")
		default:
			texts = append(texts, fmt.Sprintf("%s%d", b, i%5))
		}
	}
	for _, threshold := range []int{1, 200, DefaultConsistencyThreshold, 700, 1000} {
		t.Run(fmt.Sprint(threshold), func(t *testing.T) {
			got, want := similarGroups(texts, threshold), pairwiseGroups(texts, threshold)
			if len(want) == 0 {
				t.Fatal("no groups: the corpus tests nothing")
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %d groups, want %d\n got %v\nwant %v", len(got), len(want), got, want)
			}
		})
	}
}

// similarGroups (bigrams counted through the inverted index) gives the
// groups the pairwise Dice comparison gave, on seeded random texts over a
// small alphabet — so texts share many bigrams, some all of them, some
// repeat a character ("灯灯灯"), mix full-width and half-width letters and
// digits, punctuation and spaces that split runs into one-letter ones —
// at thresholds including the exact boundaries of the integer Dice test.
func TestSimilarGroupsMatchesPairwiseRandom(t *testing.T) {
	alphabet := []rune("灯路楼道号垃圾清运停车 ，,AaＡ1１2·")
	for seed := range int64(6) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(seed), 7))
			texts := make([]string, 400)
			for i := range texts {
				if i > 0 && rng.IntN(5) == 0 {
					texts[i] = texts[rng.IntN(i)] // a copy
					continue
				}
				n := rng.IntN(9)
				r := make([]rune, n)
				for k := range r {
					r[k] = alphabet[rng.IntN(len(alphabet))]
				}
				texts[i] = string(r)
			}
			for _, threshold := range []int{1, 333, 400, 499, 500, 666, 667, 800, 999, 1000} {
				got, want := similarGroups(texts, threshold), pairwiseGroups(texts, threshold)
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
