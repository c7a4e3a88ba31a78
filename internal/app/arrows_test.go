package app_test

import (
	"os/exec"
	"strings"
	"testing"
)

// layer ranks the project's packages as docs/ARCHITECTURE.md draws them:
// an import may only point to a lower layer, or stay inside its own
// family (cases → cases/casedb); the two API surfaces never import each
// other. Test-only packages (bench, e2e, …test helpers) are not ranked.
func layer(path string) (rank int, family string, ranked bool) {
	p := strings.TrimPrefix(path, "minsheng")
	top := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 2)[0]
	switch {
	case p == "":
		return 0, "minsheng", true
	case top == "static", top == "internal" && !strings.HasPrefix(p, "/internal/app"):
		return 1, "internal", true
	case top == "cases":
		return 2, "cases", true
	case top == "budgetlink":
		return 3, "budgetlink", true
	case top == "demo":
		return 4, "demo", true
	case top == "handlers", top == "mobile-api":
		return 5, top, true
	case p == "/internal/app":
		return 6, "app", true
	case top == "cmd":
		return 7, "cmd", true
	}
	return 0, "", false
}

func TestImportsPointDown(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", "minsheng/...").Output()
	if err != nil {
		t.Skipf("go list: %v", err) // no toolchain where the tests run
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		from := f[0]
		if strings.Contains(from, "/third_party/") || strings.HasSuffix(from, "test") {
			continue
		}
		fr, ff, ok := layer(from)
		if !ok {
			continue
		}
		for _, to := range f[1:] {
			if !strings.HasPrefix(to, "minsheng") || strings.Contains(to, "/third_party/") {
				continue
			}
			tr, tf, ok := layer(to)
			if !ok {
				t.Errorf("%s imports %s, a test-only package", from, to)
				continue
			}
			checked++
			if tr > fr || (tr == fr && tf != ff) {
				t.Errorf("%s (layer %d) imports %s (layer %d): arrows point down only", from, fr, to, tr)
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d imports checked; is the module named minsheng?", checked)
	}
}
