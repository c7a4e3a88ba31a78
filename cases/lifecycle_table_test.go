package cases

import "testing"

// Every workflow step leads to a real state from the table, so a step
// that writes its target (finish, complete, cancel) can never write an
// empty or unknown status; the two exceptions are decided elsewhere.
func TestEveryStepHasItsTarget(t *testing.T) {
	for a, r := range transitions {
		switch a {
		case ActCatalog: // classifying keeps the state
			if r.to != "" {
				t.Errorf("%s: target %q, want none", a, r.to)
			}
		default:
			if !r.to.Valid() {
				t.Errorf("%s: target %q is not a state", a, r.to)
			}
			if got := a.target(); got != r.to {
				t.Errorf("%s.target() = %q, want %q", a, got, r.to)
			}
		}
	}
	if got, want := ActComplete.target(), StatusCompleted; got != want {
		t.Errorf("complete leads to %q, want %q", got, want)
	}
	if got, want := ActCancel.target(), StatusCancelled; got != want {
		t.Errorf("cancel leads to %q, want %q", got, want)
	}
}
