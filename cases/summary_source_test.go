package cases

import (
	"context"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng/cases/casedb"
)

// RepairSummaries reads the cases projected on summarySource: a summary
// field that summaryOf reads but the projection left out would make every
// correct summary look stale and be "repaired" to a wrong one. With every
// field of a case set, a correct summary is left alone, and a summary wrong
// in any one field is found stale and rewritten to the full case's.
func TestRepairComparesEverySummaryField(t *testing.T) {
	ctx := context.Background()
	s := internalService(t)
	filed := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	c := &Case{
		ID: "c-1", Number: "XC2026-0000001", Area: AreaUrban, Title: "路灯不亮",
		Description: "很长的描述", Location: Location{SubDistrict: "xichanganjie", Community: "xichanganjie-liubukou", Address: "1号院"},
		Status: StatusInProgress, AssignedTo: "cadre-a", FiledAt: filed, DueAt: filed.Add(48 * time.Hour), Version: 7,
		FilerID: "res-1", Cosigners: []string{"res-2", "res-3"}, Budget: &BudgetLink{LineID: "BL-1", ReservedFen: 100},
		MoneyEffect: &MoneyEffect{ID: "e-1", State: EffectPending}, Timeline: []Event{{At: filed, Action: ActSubmit}},
		// what the facts read (facts.go)
		CatalogItem: "CG-01", Households: 12, MergedFrom: []string{"c-0"},
		AcceptedAt: ptrTo(filed.Add(time.Hour)), CompletionDueAt: ptrTo(filed.Add(72 * time.Hour)), CompletedAt: ptrTo(filed.Add(50 * time.Hour)),
		Verdict: VerdictSatisfied, Verdicts: []VerdictRecord{{Verdict: VerdictDissatisfied, At: filed}, {Verdict: VerdictSatisfied, At: filed}},
		Assessment: &Assessment{EstimateFen: 500_00, Households: 12, Risk: 2, Elderly: 3, Disabled: 1, Note: "现场查看"},
	}
	c.Budget.ItemCode, c.Budget.EstimateFen, c.Budget.State, c.Budget.LinkedAt, c.Budget.LinkedBy = "CG-01", 500_00, "reserved", filed, "staff-1"
	if err := s.st.Collection(casedb.CasesCollection).InsertOne(ctx, c); err != nil {
		t.Fatal(err)
	}
	want := summaryOf(c)
	put := func(t *testing.T, sm summary) {
		t.Helper()
		if _, err := s.st.Collection(casedb.SummariesCollection).ReplaceOne(ctx, byID(sm.ID), sm, options.Replace().SetUpsert(true)); err != nil {
			t.Fatal(err)
		}
	}
	repair := func(t *testing.T) SummaryRepair {
		t.Helper()
		rep, err := s.RepairSummaries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []summary
		if err := s.st.Collection(casedb.SummariesCollection).FindAll(ctx, byID(c.ID), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || !got[0].Same(&want) {
			t.Errorf("summary after the repair: got %+v, want %+v", got, want)
		}
		return rep
	}
	t.Run("correct summary left alone", func(t *testing.T) {
		put(t, want)
		if rep := repair(t); rep.Stale != 0 || rep.Missing != 0 {
			t.Errorf("got %+v, want nothing stale or missing", rep)
		}
	})
	typ := reflect.TypeOf(want)
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Name == "ID" || f.Name == "Facts" {
			continue
		}
		t.Run("wrong "+f.Name, func(t *testing.T) {
			bad := want
			bad.Cosigners = append([]string(nil), want.Cosigners...)
			v := reflect.ValueOf(&bad).Elem().Field(i)
			switch x := v.Interface().(type) {
			case time.Time:
				v.Set(reflect.ValueOf(x.Add(time.Hour)))
			case int64:
				v.SetInt(x + 1)
			case []string:
				v.Set(reflect.ValueOf(append(x, "res-9")))
			default:
				v.SetString(v.String() + "-stale")
			}
			put(t, bad)
			if rep := repair(t); rep.Stale != 1 {
				t.Errorf("got %+v, want the summary found stale", rep)
			}
		})
	}
	t.Run("wrong Facts", func(t *testing.T) {
		bad := want
		bad.Facts.Households++
		put(t, bad)
		if rep := repair(t); rep.Stale != 1 {
			t.Errorf("got %+v, want the summary found stale", rep)
		}
	})
}

func ptrTo[T any](v T) *T { return &v }
