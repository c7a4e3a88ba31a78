// Package textsim is the one similarity measure of short Chinese texts the
// product uses: character bigrams within runs of letters and digits (Chinese
// has no spaces, so pairs of characters are the cheapest useful unit) and
// their Dice coefficient in per-mille. Similar cases (cases), catalog
// suggestions and the consistency report's groups (budgetlink) all call it,
// so a score means the same on every screen.
package textsim

import "unicode"

// Bigrams returns the set of adjacent-character pairs of s, taken within runs
// of letters and digits (so punctuation and spaces split runs). Letters are
// lower-cased and full-width ASCII folded to half-width; a run of one
// character contributes that character. Suited to Chinese, which has no
// spaces between words.
func Bigrams(s string) map[string]struct{} {
	set := make(map[string]struct{})
	var run []rune
	flush := func() {
		if len(run) == 1 {
			set[string(run)] = struct{}{}
		}
		for i := 0; i+1 < len(run); i++ {
			set[string(run[i:i+2])] = struct{}{}
		}
		run = run[:0]
	}
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII: Ａ, １ …
			r -= 0xFEE0
		}
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			run = append(run, unicode.ToLower(r))
		} else {
			flush()
		}
	}
	flush()
	return set
}

// Similarity is the Dice coefficient of the bigram sets of a and b in
// per-mille (0..1000, integer division): 1000 for texts with the same
// bigrams, 0 when they share none or either has none.
func Similarity(a, b string) int {
	return Dice(Bigrams(a), Bigrams(b))
}

// Dice is the Dice coefficient of two bigram sets in per-mille (0..1000,
// integer division); 0 when either is empty.
func Dice(a, b map[string]struct{}) int {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	small, large := a, b
	if len(small) > len(large) {
		small, large = large, small
	}
	shared := 0
	for g := range small {
		if _, ok := large[g]; ok {
			shared++
		}
	}
	return 2 * shared * 1000 / (len(a) + len(b))
}
