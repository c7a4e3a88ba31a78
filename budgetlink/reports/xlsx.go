package reports

// Lines go back out to the finance bureau as XLSX. The first sheet is read
// by people: Chinese columns in a finance officer's order, money in 元 as
// numbers Excel sums (one column per ledger.Figures label, 调整 included),
// and a 合计 row summed from integer fen. The machine columns the import
// reads (ledger.ImportColumns, amounts in 分) are on their own sheet, so an
// export still re-imports.

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"minsheng"
	"minsheng/budgetlink/ledger"
	"minsheng/internal/auth"
)

// Sheets of the lines workbook.
const (
	LinesSheet   = "预算项目"
	SummarySheet = "执行汇总"
	ImportSheet  = ledger.ImportSheet
)

// exportMoneyKeys are the line figures the lines sheet shows, in order.
var exportMoneyKeys = []string{"approved_fen", "adjusted_fen", "budget_fen", "committed_fen", "spent_fen", "available_fen"}

// exportLineHeader is the lines sheet's header: who and what, the money in
// 元 under the ledger's labels, then execution and review.
func exportLineHeader() []any {
	h := []any{"街道", "项目名称", "支出分类编码", "支出分类"}
	for _, k := range exportMoneyKeys {
		h = append(h, ledger.FigureLabel(k)+"（元）")
	}
	return append(h, "执行率", "调整次数", "评审阶段", "预算项目编号")
}

// yuanFormat shows a yuan cell as 1,234.50元 while it stays a number Excel sums.
const yuanFormat = `#,##0.00"元"`

// yuanCell is fen as a numeric yuan cell. The stored value is the double
// nearest the exact decimal (fen are int64 everywhere else; a spreadsheet
// number is a double, and every amount up to MaxAmountFen has two exact
// decimals in one), so Excel sums it and shows it to the fen.
func yuanCell(fen int64, style int) excelize.Cell {
	v, _ := strconv.ParseFloat(minsheng.YuanDecimal(fen), 64)
	return excelize.Cell{StyleID: style, Value: v}
}

// stageLabels joins the labels of every review stage: 事前评审、事后评审.
func stageLabels(stages []string) string {
	out := make([]string, 0, len(stages))
	for _, s := range stages {
		if l := ledger.ReviewLabel(s); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "、")
}

// percentFormat shows an execution rate (a fraction) as 12.3%.
const percentFormat = "0.0%"

// permilleCell is a rate in ‰ as a numeric fraction shown in percent.
func permilleCell(permille int64, style int) excelize.Cell {
	v, _ := strconv.ParseFloat(strconv.FormatInt(permille, 10)+"e-3", 64)
	return excelize.Cell{StyleID: style, Value: v}
}

// lineMoney is a line's (or a total's) figures, in exportMoneyKeys' order.
func lineMoney(approved, adjusted, budget, committed, spent, available int64) []int64 {
	return []int64{approved, adjusted, budget, committed, spent, available}
}

// ExportLines writes the lines of a fiscal year (and sub-district, "" for
// all p may see) as an XLSX workbook: sheet 预算项目 with one row per line,
// grouped by sub-district, and a 合计 row; sheet 执行汇总 with the execution
// per sub-district; sheet 导入格式 with the import columns, for re-import.
func (s *Reporter) ExportLines(ctx context.Context, p auth.Principal, fiscalYear int, subDistrict string, w io.Writer) error {
	rep, err := s.ExecutionReport(ctx, p, fiscalYear, subDistrict)
	if err != nil {
		return err
	}
	f := excelize.NewFile()
	defer f.Close()
	fail := func(err error) error { return fmt.Errorf("budgetlink: export: %w", err) }
	if err := f.SetSheetName("Sheet1", LinesSheet); err != nil {
		return fail(err)
	}
	numFmt, pctFmt := yuanFormat, percentFormat
	yuan, err := f.NewStyle(&excelize.Style{CustomNumFmt: &numFmt})
	if err != nil {
		return fail(err)
	}
	pct, err := f.NewStyle(&excelize.Style{CustomNumFmt: &pctFmt})
	if err != nil {
		return fail(err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fail(err)
	}
	boldYuan, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, CustomNumFmt: &numFmt})
	if err != nil {
		return fail(err)
	}
	boldPct, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, CustomNumFmt: &pctFmt})
	if err != nil {
		return fail(err)
	}
	sw, err := f.NewStreamWriter(LinesSheet)
	if err != nil {
		return fail(err)
	}
	for col, width := range []float64{12, 30, 13, 22, 15, 14, 15, 15, 15, 15, 9, 9, 18, 24} {
		if err := sw.SetColWidth(col+1, col+1, width); err != nil {
			return fail(err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fail(err)
	}
	if err := sw.SetRow("A1", exportLineHeader(), excelize.RowOpts{StyleID: bold}); err != nil {
		return fail(err)
	}
	row := 2
	put := func(values []any, opts ...excelize.RowOpts) error {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		row++
		return sw.SetRow(cell, values, opts...)
	}
	var imports [][]any
	for _, sub := range rep.SubDistricts {
		for _, l := range sub.Lines {
			values := []any{sub.Name, l.ProjectName, l.ItemCode, l.ItemName}
			for _, fen := range lineMoney(l.ApprovedFen, l.AdjustedFen, l.BudgetFen, l.CommittedFen, l.SpentFen, l.AvailableFen) {
				values = append(values, yuanCell(fen, yuan))
			}
			values = append(values, permilleCell(l.ExecutionPermille, pct), l.Adjustments, stageLabels(l.ReviewStages), l.LineID)
			if err := put(values); err != nil {
				return fail(err)
			}
			imports = append(imports, []any{l.FiscalYear, l.SubDistrict, l.ItemCode, l.ProjectName, l.ApprovedFen})
		}
	}
	t := rep.Total
	total := []any{excelize.Cell{StyleID: bold, Value: "合计"}, excelize.Cell{StyleID: bold, Value: fmt.Sprintf("%d 个项目", t.LineCount)}, nil, nil}
	for _, fen := range lineMoney(t.ApprovedFen, t.AdjustedFen, t.BudgetFen, t.CommittedFen, t.SpentFen, t.AvailableFen) {
		total = append(total, yuanCell(fen, boldYuan))
	}
	total = append(total, permilleCell(t.ExecutionPermille, boldPct))
	if err := put(total); err != nil {
		return fail(err)
	}
	if err := sw.Flush(); err != nil {
		return fail(err)
	}
	if err := s.writeSummarySheet(f, rep, yuan, pct, bold); err != nil {
		return fail(err)
	}
	if err := writeImportSheet(f, imports); err != nil {
		return fail(err)
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("budgetlink: unable to write export: %w", err)
	}
	return nil
}

// writeSummarySheet writes 执行汇总: one row per sub-district and 合计.
func (s *Reporter) writeSummarySheet(f *excelize.File, rep *ExecutionReport, yuan, pct, bold int) error {
	if _, err := f.NewSheet(SummarySheet); err != nil {
		return err
	}
	sum, err := f.NewStreamWriter(SummarySheet)
	if err != nil {
		return err
	}
	if err := sum.SetColWidth(1, 8, 14); err != nil {
		return err
	}
	header := []any{"街道", "预算项目数", "按批复执行", "经调整", ledger.FigureLabel("budget_fen") + "（元）", ledger.FigureLabel("spent_fen") + "（元）", "执行率", "街道编码"}
	if err := sum.SetRow("A1", header, excelize.RowOpts{StyleID: bold}); err != nil {
		return err
	}
	rows := append(append([]SubDistrictExecution{}, rep.SubDistricts...), rep.Total)
	for i, sub := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		name, code := sub.Name, sub.Code
		if i == len(rows)-1 {
			name, code = "合计", ""
		}
		if err := sum.SetRow(cell, []any{name, sub.LineCount, sub.ExactCount, sub.AdjustedCount, yuanCell(sub.BudgetFen, yuan),
			yuanCell(sub.SpentFen, yuan), permilleCell(sub.ExecutionPermille, pct), code}); err != nil {
			return err
		}
	}
	return sum.Flush()
}

// writeImportSheet writes 导入格式: the import columns (amounts in 分), one
// row per line, so the workbook re-imports (ledger.ImportLines reads it).
func writeImportSheet(f *excelize.File, rows [][]any) error {
	if _, err := f.NewSheet(ImportSheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(ImportSheet)
	if err != nil {
		return err
	}
	header := make([]any, len(ledger.ImportColumns))
	for i, c := range ledger.ImportColumns {
		header[i] = c
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, r); err != nil {
			return err
		}
	}
	return sw.Flush()
}
