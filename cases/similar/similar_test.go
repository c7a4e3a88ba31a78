package similar

import (
	"strings"
	"testing"

	"minsheng/internal/auth"
	"minsheng/internal/textsim"
)

func TestScore(t *testing.T) {
	for _, tc := range []struct {
		name, query, title, body string
		atLeast, below           int
	}{
		{"every word literally in the title is lifted", "旱厕", "胡同旱厕改造", "", 500, 1001},
		{"unrelated text scores low", "楼道灯不亮", "小区绿化补种", "", 0, 300},
		{"the same title scores full", "楼道灯不亮", "楼道灯不亮", "", 1000, 1001},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Score(tc.title, tc.body, textsim.Bigrams(tc.query), strings.Fields(strings.ToLower(tc.query)))
			if got < tc.atLeast || got >= tc.below {
				t.Errorf("Score = %d, want in [%d, %d)", got, tc.atLeast, tc.below)
			}
		})
	}
}

func TestContainsAll(t *testing.T) {
	if ContainsAll("abc", nil) {
		t.Error("no words: got true, want false")
	}
	if !ContainsAll("胡同旱厕改造", []string{"旱厕", "改造"}) {
		t.Error("both words present: got false, want true")
	}
}

func TestScope(t *testing.T) {
	cadre := auth.Principal{UserID: "c", Role: auth.RoleCadre, SubDistrict: "S1", Community: "C1"}
	got, err := Scope(cadre, "", "")
	if err != nil || len(got) != 1 || got[0].Key != "community" || got[0].Value != "C1" {
		t.Errorf("cadre without a community: got %v, %v; want community C1", got, err)
	}
	if _, err := Scope(cadre, "S2", "C9"); err == nil {
		t.Error("cadre asking about another sub-district's community: got no error, want EFORBIDDEN")
	}
	resident := auth.Principal{UserID: "r", Role: auth.RoleResident}
	if got, err := Scope(resident, "S2", "C9"); err != nil || len(got) != 1 {
		t.Errorf("resident: got %v, %v; want the community asked about", got, err)
	}
}
