package catalog

import "encoding/json"

// MarshalJSON adds the Chinese labels of the expense class and budgeting
// method (人员类 / 运转类 / 特定目标类; 按实际 / 按定额 / 依财力), so every
// client shows the words finance uses instead of the codes.
func (it CatalogItem) MarshalJSON() ([]byte, error) {
	type plain CatalogItem // without this method
	return json.Marshal(struct {
		plain
		ExpenseClassLabel string `json:"expense_class_label"`
		BudgetMethodLabel string `json:"budget_method_label"`
	}{plain(it), catalogClassLabels[it.ExpenseClass], catalogMethodLabels[it.BudgetMethod]})
}
