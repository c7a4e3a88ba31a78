package catalog

import (
	"encoding/json"
	"testing"
)

func TestCatalogItemLabels(t *testing.T) {
	cat, err := LoadCatalog(2026)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(cat)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != len(cat.Items) {
		t.Fatalf("items: got %d, want %d", len(got.Items), len(cat.Items))
	}
	for i, it := range got.Items {
		want := cat.Items[i]
		if it["code"] != want.Code || it["expense_class"] != want.ExpenseClass {
			t.Fatalf("item %d: got %v, want the item's own fields of %s", i, it, want.Code)
		}
		if it["expense_class_label"] != catalogClassLabels[want.ExpenseClass] || it["expense_class_label"] == "" {
			t.Errorf("%s expense_class_label: got %v, want %q", want.Code, it["expense_class_label"], catalogClassLabels[want.ExpenseClass])
		}
		if it["budget_method_label"] != catalogMethodLabels[want.BudgetMethod] || it["budget_method_label"] == "" {
			t.Errorf("%s budget_method_label: got %v, want %q", want.Code, it["budget_method_label"], catalogMethodLabels[want.BudgetMethod])
		}
	}
}
