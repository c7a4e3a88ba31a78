package reports

// Lines go back out to the finance bureau as XLSX; the lines sheet starts
// with ledger.ImportColumns, so an export re-imports. Money columns are
// integer fen, with a yuan column formatted from fen by integer arithmetic.

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

// exportLineHeader is the lines sheet: the import columns first, then the
// execution figures in fen and their yuan display.
var exportLineHeader = []any{
	"财年", "街道编码", "支出分类编码", "项目名称", "批复金额（分）",
	"预算项目编号", "街道", "支出分类", "调整金额（分）", "调整后预算（分）", "已预留（分）", "已支出（分）", "可用（分）",
	"执行率（‰）", "调整次数", "评审阶段",
	"批复金额（元）", "调整后预算（元）", "已预留（元）", "已支出（元）", "可用（元）",
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

// ExportLines writes the lines of a fiscal year (and sub-district, "" for
// all p may see) as an XLSX workbook: sheet 预算项目 with one row per line,
// sheet 执行汇总 with the execution summary per sub-district.
func (s *Reporter) ExportLines(ctx context.Context, p auth.Principal, fiscalYear int, subDistrict string, w io.Writer) error {
	rep, err := s.ExecutionReport(ctx, p, fiscalYear, subDistrict)
	if err != nil {
		return err
	}
	f := excelize.NewFile()
	defer f.Close()
	const linesSheet, summarySheet = "预算项目", "执行汇总"
	if err := f.SetSheetName("Sheet1", linesSheet); err != nil {
		return fmt.Errorf("budgetlink: export: %w", err)
	}
	numFmt := yuanFormat
	yuan, err := f.NewStyle(&excelize.Style{CustomNumFmt: &numFmt})
	if err != nil {
		return fmt.Errorf("budgetlink: export: %w", err)
	}
	sw, err := f.NewStreamWriter(linesSheet)
	if err != nil {
		return fmt.Errorf("budgetlink: export: %w", err)
	}
	if err := sw.SetRow("A1", exportLineHeader); err != nil {
		return fmt.Errorf("budgetlink: export: %w", err)
	}
	row := 2
	for _, sub := range rep.SubDistricts {
		for _, l := range sub.Lines {
			cell, _ := excelize.CoordinatesToCellName(1, row)
			values := []any{
				l.FiscalYear, l.SubDistrict, l.ItemCode, l.ProjectName, l.ApprovedFen,
				l.LineID, sub.Name, l.ItemName, l.AdjustedFen, l.BudgetFen, l.CommittedFen, l.SpentFen, l.AvailableFen,
				l.ExecutionPermille, l.Adjustments, stageLabels(l.ReviewStages),
				yuanCell(l.ApprovedFen, yuan), yuanCell(l.BudgetFen, yuan), yuanCell(l.CommittedFen, yuan),
				yuanCell(l.SpentFen, yuan), yuanCell(l.AvailableFen, yuan),
			}
			if err := sw.SetRow(cell, values); err != nil {
				return fmt.Errorf("budgetlink: export: %w", err)
			}
			row++
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("budgetlink: export: %w", err)
	}
	if _, err := f.NewSheet(summarySheet); err != nil {
		return fmt.Errorf("budgetlink: export: %w", err)
	}
	sum, err := f.NewStreamWriter(summarySheet)
	if err != nil {
		return fmt.Errorf("budgetlink: export: %w", err)
	}
	if err := sum.SetRow("A1", []any{"街道编码", "街道", "预算项目数", "按批复执行", "经调整", "调整后预算（分）", "已支出（分）", "执行率（‰）", "调整后预算（元）", "已支出（元）"}); err != nil {
		return fmt.Errorf("budgetlink: export: %w", err)
	}
	for i, sub := range rep.SubDistricts {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sum.SetRow(cell, []any{sub.Code, sub.Name, sub.LineCount, sub.ExactCount, sub.AdjustedCount, sub.BudgetFen, sub.SpentFen,
			sub.ExecutionPermille, yuanCell(sub.BudgetFen, yuan), yuanCell(sub.SpentFen, yuan)}); err != nil {
			return fmt.Errorf("budgetlink: export: %w", err)
		}
	}
	if err := sum.Flush(); err != nil {
		return fmt.Errorf("budgetlink: export: %w", err)
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("budgetlink: unable to write export: %w", err)
	}
	return nil
}
