package planning

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"golang.org/x/crypto/bcrypt"

	"minsheng/budgetlink"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/org"
	"minsheng/internal/store/storetest"
)

// TestRunNotifiesWaitlisted: committing a run tells the cadres of each
// need it leaves waitlisted "资金不足，已列入候补" with the shortfall — the
// assigned cadre, or while none is the community's cadres — once per run
// however many copies of the commit arrive at the same moment; funded
// needs and other communities' cadres hear nothing. Two rounds, the
// second against cadres who already hold the first run's notices.
func TestRunNotifiesWaitlisted(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.st.EnsureIndexes(ctx, cases.NotifyIndexes); err != nil {
		t.Fatal(err)
	}
	// The cases service as cmd wires it: with the accounts, so it can find
	// a community's cadres.
	dir := org.Xicheng()
	acfg := auth.DefaultConfig([]byte(strings.Repeat("k", 32)), storetest.Logger())
	acfg.BcryptCost = bcrypt.MinCost
	if err := e.st.EnsureIndexes(ctx, auth.Indexes); err != nil {
		t.Fatal(err)
	}
	users, err := auth.NewService(e.st, dir, acfg)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return asOf }
	e.cases = cases.NewService(e.st, dir, nil, cases.Config{Now: now, Logger: storetest.Logger(), Users: users})
	e.ledger = budgetlink.NewService(e.st, budgetlink.Config{Org: dir, Logger: storetest.Logger(), Now: now})
	e.ledger.SetCases(e.cases)
	e.svc = NewService(e.st, e.ledger, e.cases, Config{Org: dir, Logger: storetest.Logger(), Now: now})
	cadres := map[string]auth.Principal{}
	for _, u := range []struct{ name, comm string }{{"zhao", comm1}, {"qian", comm1}, {"sun", comm2}} {
		got, err := users.CreateUser(ctx, auth.NewUser{Username: u.name, Password: "password-" + u.name, Name: u.name, Role: auth.RoleCadre, Scope: u.comm})
		if err != nil {
			t.Fatal(err)
		}
		cadres[u.name] = got.Principal()
	}
	s := e.scenario(t) // L1 funds B and waitlists C (comm1), 4,000 元 short

	waitlisted := func(t *testing.T, who string) []cases.Notification {
		t.Helper()
		all, _, err := e.cases.Notifications(ctx, cadres[who])
		if err != nil {
			t.Fatal(err)
		}
		var out []cases.Notification
		for _, n := range all {
			if n.Kind == cases.NotifyWaitlisted {
				out = append(out, n)
			}
		}
		return out
	}
	commit := func(t *testing.T, id string) {
		t.Helper()
		const copies = 12
		var wg sync.WaitGroup
		errs := make([]error, copies)
		for i := range copies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = e.svc.StartRun(ctx, staff, RunRequest{RunID: id, FiscalYear: 2026, SubDistrict: sub})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("copy %d: %v", i, err)
			}
		}
	}

	t.Run("unassigned: the community's cadres, once", func(t *testing.T) {
		commit(t, runID)
		for _, who := range []string{"zhao", "qian"} {
			got := waitlisted(t, who)
			if len(got) != 1 {
				t.Fatalf("%s: got %d waitlisted notices, want 1: %+v", who, len(got), got)
			}
			n := got[0]
			if n.CaseID != s.c.ID || n.Title != "资金不足，已列入候补" {
				t.Errorf("%s: got case %s %q, want %s 资金不足，已列入候补", who, n.CaseID, n.Title, s.c.ID)
			}
			// C needs 5,000 元; L1 keeps 1,000 元 after funding B.
			for _, part := range []string{"5,000.00 元", "1,000.00 元", "尚缺 4,000.00 元", "丰盛社区旱厕改造"} {
				if !strings.Contains(n.Text, part) {
					t.Errorf("%s: text %q lacks %q", who, n.Text, part)
				}
			}
		}
		if got := waitlisted(t, "sun"); len(got) != 0 {
			t.Errorf("another community's cadre: got %d notices, want 0", len(got))
		}
	})

	t.Run("assigned: the assigned cadre only, once per run", func(t *testing.T) {
		if _, err := e.st.Collection("cases").UpdateOne(ctx, bson.M{"_id": s.c.ID},
			bson.M{"$set": bson.M{"assigned_to": cadres["zhao"].UserID}}); err != nil {
			t.Fatal(err)
		}
		e.repairSummaries(t)
		commit(t, "5c0e4b1a-9d2f-4e7a-8b3c-1a2b3c4d5e6f")
		if got := waitlisted(t, "zhao"); len(got) != 2 {
			t.Errorf("zhao: got %d notices, want 2 (one per run)", len(got))
		}
		if got := waitlisted(t, "qian"); len(got) != 1 {
			t.Errorf("qian: got %d notices, want still 1 (C is zhao's now)", len(got))
		}
	})
}
