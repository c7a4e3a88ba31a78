package ledger

// The words for a line's money, in one place (STYLE rule 11): the console's
// columns, the public board, the lines workbook and the reservation and
// movement states all name a figure from this table, so the board cannot
// say 已安排 where the console says 已预留 for the same sum.

// Figure is one money figure of a line with its label.
type Figure struct {
	Key   string `json:"key"`
	Label string `json:"label"`
}

// Figures are a line's money figures in a finance officer's order.
var Figures = []Figure{
	{"approved_fen", "批复"},
	{"adjusted_fen", "调整"},
	{"budget_fen", "调整后预算"},
	{"committed_fen", "已预留"},
	{"spent_fen", "已支出"},
	{"available_fen", "可用"},
}

// FigureLabel is the label of a figure key ("committed_fen" → 已预留).
func FigureLabel(key string) string {
	for _, f := range Figures {
		if f.Key == key {
			return f.Label
		}
	}
	return key
}

// MoneyLabels is every budget word a screen shows, for GET /api/v1/budget/labels.
type MoneyLabels struct {
	Figures           []Figure          `json:"figures"`
	ReservationStates map[string]string `json:"reservation_states"`
	AuditKinds        map[string]string `json:"audit_kinds"`
	AdjustmentKinds   map[string]string `json:"adjustment_kinds"`
	ReviewStages      map[string]string `json:"review_stages"`
}

var auditLabels = map[string]string{AuditReserve: "预留", AuditReestimate: "重新估算", AuditRelease: "释放",
	AuditSpend: "支出", AuditAdjust: "预算调整", AuditRepair: "核查修复"}

// Labelled returns the budget words: figures, reservation states, movement
// kinds, adjustment kinds and review stages.
func Labelled() MoneyLabels {
	l := MoneyLabels{Figures: Figures, ReservationStates: map[string]string{}, AuditKinds: auditLabels,
		AdjustmentKinds: adjustLabels, ReviewStages: reviewLabels}
	for _, s := range []string{StateReserved, StateSpent, StateReleased} {
		l.ReservationStates[s] = stateLabel(s)
	}
	return l
}

func stateLabel(state string) string {
	switch state {
	case StateReserved:
		return FigureLabel("committed_fen")
	case StateSpent:
		return FigureLabel("spent_fen")
	case StateReleased:
		return "已释放"
	}
	return state
}
