package textsim

import (
	"slices"
	"testing"
)

func TestBigrams(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"旱厕改造", []string{"厕改", "改造", "旱厕"}},
		{"10号院，旱厕", []string{"0号", "10", "旱厕", "号院"}},
		{"a", []string{"a"}},
		{"ＡＢ c", []string{"ab", "c"}},
		{"", nil},
		{"，。！", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got []string
			for g := range Bigrams(tt.in) {
				got = append(got, g)
			}
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestSimilarity(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"旱厕改造", "旱厕改造", 1000},
		{"旱厕改造", "旱厕维修", 333}, // 1 shared of 3+3
		{"旱厕改造", "路灯维修", 0},
		{"", "旱厕", 0},
		{"", "", 0},
		{"楼道堆物", "楼道里堆物", 571}, // {楼道,道堆,堆物} vs {楼道,道里,里堆,堆物}: 2*2*1000/7
	}
	for _, tt := range tests {
		t.Run(tt.a+"|"+tt.b, func(t *testing.T) {
			if got := Similarity(tt.a, tt.b); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
			if got := Similarity(tt.b, tt.a); got != tt.want {
				t.Errorf("reversed: got %d, want %d", got, tt.want)
			}
		})
	}
}
