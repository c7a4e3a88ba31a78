package ledger

// Approved budgets arrive as XLSX from the finance bureau (the export is in
// package reports). Import is all or nothing: every row is checked first and every bad
// row reported with its row, column and reason; only a clean file is
// written, under an import batch that Check rolls back if a crash stops the
// writing half way. Money columns are integer fen.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"minsheng"
	"minsheng/budgetlink/catalog"
	"minsheng/internal/auth"
	"minsheng/internal/calendar"
)

// ImportColumns is the header row an import file must start with, in order;
// an export's sheet ImportSheet holds the same columns, so it re-imports.
var ImportColumns = []string{"财年", "街道编码", "支出分类编码", "项目名称", "批复金额（分）"}

// ImportSheet is the sheet of an exported workbook that holds its lines in
// ImportColumns; the import reads the first sheet whose header is
// ImportColumns, else the first sheet (and reports its header).
const ImportSheet = "导入格式"

const (
	importBatchesCollection = "budget_import_batches"
	// MaxImportRows bounds one file; a district's year is about 3,000 lines.
	MaxImportRows = 20_000
	// maxImportUnzipped bounds the unpacked size of an uploaded workbook, so
	// a zip bomb cannot exhaust memory.
	maxImportUnzipped = 64 << 20
)

// ImportProblem is one reason a file was refused. Row is 1-based as Excel
// shows it (0 for the file as a whole); Column is the letter ("" for a
// whole row or file) and Cell their combination ("E7").
type ImportProblem struct {
	Row    int    `json:"row"`
	Column string `json:"column,omitempty"`
	Cell   string `json:"cell,omitempty"`
	Header string `json:"header,omitempty"`
	Reason string `json:"reason"`
}

func (p ImportProblem) String() string {
	switch {
	case p.Row == 0:
		return p.Reason
	case p.Column == "":
		return fmt.Sprintf("第 %d 行：%s", p.Row, p.Reason)
	}
	return fmt.Sprintf("第 %d 行 %s 列（%s）：%s", p.Row, p.Column, p.Header, p.Reason)
}

// ImportResult reports an import: the lines written, or every problem found.
type ImportResult struct {
	Batch    string `json:"batch,omitempty"`
	Imported int    `json:"imported"`
	// LineIDs are the new lines' ids, in the file's row order.
	LineIDs  []string        `json:"line_ids,omitempty"`
	Problems []ImportProblem `json:"problems,omitempty"`
}

// importRefused turns problems into one EINVALID error whose fields are
// keyed by cell ("E7"), row ("row 7") or "file".
func importRefused(problems []ImportProblem) error {
	fields := make(map[string]string, len(problems))
	for _, p := range problems {
		key := p.Cell
		switch {
		case p.Row == 0:
			key = "file"
		case key == "":
			key = fmt.Sprintf("row %d", p.Row)
		}
		if prev, ok := fields[key]; ok {
			fields[key] = prev + "；" + p.Reason
		} else {
			fields[key] = p.Reason
		}
	}
	return minsheng.Invalid(fmt.Sprintf("导入失败：发现 %d 处错误，未导入任何数据", len(problems)), fields)
}

// importBatch records an import in progress, so Check can roll back one a
// crash interrupted.
type importBatch struct {
	ID        string    `bson:"_id"`
	State     string    `bson:"state"` // pending, done, rolled_back
	Rows      int       `bson:"rows"`
	By        string    `bson:"by"`
	CreatedAt time.Time `bson:"created_at"`
}

// ImportLines reads approved budget lines from an XLSX workbook (first
// sheet, header ImportColumns) and creates them all, or none. Finance and
// admin only. A refused file returns the result with every problem and an
// EINVALID error whose fields are keyed by cell.
func (s *Service) ImportLines(ctx context.Context, p auth.Principal, r io.Reader) (*ImportResult, error) {
	if err := p.RequireRole(auth.RoleFinance, auth.RoleAdmin); err != nil {
		return nil, err
	}
	rows, problem := readImportRows(r)
	if problem != nil {
		res := &ImportResult{Problems: []ImportProblem{*problem}}
		return res, importRefused(res.Problems)
	}
	batch := newID("IMP")
	lines, problems := s.validateImport(ctx, rows, p.UserID, batch)
	if len(problems) > 0 {
		res := &ImportResult{Problems: problems}
		return res, importRefused(problems)
	}
	if err := s.writeImport(ctx, p, batch, lines); err != nil {
		return nil, err
	}
	ids := make([]string, len(lines))
	for i, l := range lines {
		ids[i] = l.ID
	}
	return &ImportResult{Batch: batch, Imported: len(lines), LineIDs: ids}, nil
}

func readImportRows(r io.Reader) ([][]string, *ImportProblem) {
	f, err := excelize.OpenReader(r, excelize.Options{UnzipSizeLimit: maxImportUnzipped, UnzipXMLSizeLimit: maxImportUnzipped})
	if err != nil {
		return nil, &ImportProblem{Reason: "文件无法读取：不是有效的 XLSX 工作簿"}
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, &ImportProblem{Reason: "工作簿中没有工作表"}
	}
	sheet := sheets[0]
	for _, name := range sheets {
		if header := firstRow(f, name); header != nil && len(checkImportHeader(header)) == 0 {
			sheet = name
			break
		}
	}
	rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, &ImportProblem{Reason: "工作表「" + sheet + "」无法读取"}
	}
	if len(rows) == 0 {
		return nil, &ImportProblem{Row: 1, Reason: "工作表为空，缺少表头"}
	}
	if len(rows)-1 > MaxImportRows {
		return nil, &ImportProblem{Reason: fmt.Sprintf("一次最多导入 %d 行，本文件有 %d 行", MaxImportRows, len(rows)-1)}
	}
	return rows, nil
}

// firstRow is a sheet's header row, nil when it has none or cannot be read.
func firstRow(f *excelize.File, sheet string) []string {
	rs, err := f.Rows(sheet)
	if err != nil {
		return nil
	}
	defer rs.Close()
	if !rs.Next() {
		return nil
	}
	r, err := rs.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return nil
	}
	return r
}

func columnName(i int) string {
	name, _ := excelize.ColumnNumberToName(i + 1)
	return name
}

func cellProblem(row, col int, reason string) ImportProblem {
	c := columnName(col)
	return ImportProblem{Row: row, Column: c, Cell: c + strconv.Itoa(row), Header: ImportColumns[col], Reason: reason}
}

func (s *Service) validateImport(ctx context.Context, rows [][]string, by, batch string) ([]*BudgetLine, []ImportProblem) {
	if problems := checkImportHeader(rows[0]); len(problems) > 0 {
		return nil, problems // with the wrong columns, reading rows would only mislead
	}
	existing, err := s.existingLineKeys(ctx)
	if err != nil {
		return nil, []ImportProblem{{Reason: "无法核对已有预算项目，请稍后重试"}}
	}
	var problems []ImportProblem
	seen := map[string]int{}
	var lines []*BudgetLine
	for i, raw := range rows[1:] {
		row := i + 2
		cells, empty := importCells(raw)
		if empty {
			continue
		}
		in, item, rowProblems := s.readImportRow(row, cells)
		if len(rowProblems) > 0 {
			problems = append(problems, rowProblems...)
			continue
		}
		key := lineKey(in.FiscalYear, in.SubDistrict, item.Code, strings.TrimSpace(in.ProjectName))
		if first, dup := seen[key]; dup {
			problems = append(problems, cellProblem(row, 3, fmt.Sprintf("与第 %d 行重复（财年、街道、支出分类和项目名称均相同）", first)))
			continue
		}
		seen[key] = row
		if existing[key] {
			problems = append(problems, cellProblem(row, 3, "该预算项目已存在（财年、街道、支出分类和项目名称均相同）"))
			continue
		}
		lines = append(lines, s.lineDoc(in, item, by, batch))
	}
	if len(lines) == 0 && len(problems) == 0 {
		problems = append(problems, ImportProblem{Row: 2, Reason: "没有数据行"})
	}
	return lines, problems
}

// checkImportHeader compares the header row with ImportColumns.
func checkImportHeader(header []string) []ImportProblem {
	var problems []ImportProblem
	for i, want := range ImportColumns {
		got := ""
		if i < len(header) {
			got = strings.TrimSpace(header[i])
		}
		if got != want {
			problems = append(problems, cellProblem(1, i, fmt.Sprintf("表头应为「%s」，实际为「%s」", want, got)))
		}
	}
	return problems
}

// importCells returns a row's cells, trimmed, one per ImportColumns, and
// whether all are empty.
func importCells(raw []string) (cells []string, empty bool) {
	cells = make([]string, len(ImportColumns))
	empty = true
	for j := range cells {
		if j < len(raw) {
			cells[j] = strings.TrimSpace(raw[j])
		}
		if cells[j] != "" {
			empty = false
		}
	}
	return cells, empty
}

// readImportRow reads the new line of one data row, or the problems of
// its cells: one reason per cell, so a cell that failed to parse is not
// also reported by the shared line rules.
func (s *Service) readImportRow(row int, cells []string) (NewLine, catalog.CatalogItem, []ImportProblem) {
	var problems []ImportProblem
	year, err := strconv.Atoi(cells[0])
	if err != nil || !calendar.ValidFiscalYear(year) {
		problems = append(problems, cellProblem(row, 0, fmt.Sprintf("财年「%s」不是有效年份", cells[0])))
	}
	fen, err := strconv.ParseInt(cells[4], 10, 64)
	switch {
	case cells[4] == "":
		problems = append(problems, cellProblem(row, 4, "批复金额不能为空"))
	case err != nil:
		problems = append(problems, cellProblem(row, 4, fmt.Sprintf("批复金额「%s」须为整数（单位：分）", cells[4])))
	case fen < 0:
		problems = append(problems, cellProblem(row, 4, fmt.Sprintf("批复金额不能为负数：%s", cells[4])))
	case fen > minsheng.MaxAmountFen:
		problems = append(problems, cellProblem(row, 4, fmt.Sprintf("批复金额「%s」超过上限 %s（%d 分）", cells[4], minsheng.MaxAmountText, minsheng.MaxAmountFen)))
	}
	in := NewLine{FiscalYear: year, SubDistrict: cells[1], ItemCode: cells[2], ProjectName: cells[3], ApprovedFen: fen}
	fields, item := s.validateNewLine(in)
	bad := map[string]bool{}
	for _, pr := range problems {
		bad[pr.Column] = true
	}
	for col, key := range []string{"fiscal_year", "sub_district", "item_code", "project_name", "approved_fen"} {
		if msg, ok := fields[key]; ok && !bad[columnName(col)] {
			problems = append(problems, cellProblem(row, col, msg))
		}
	}
	return in, item, problems
}

func lineKey(year int, sub, item, name string) string {
	return fmt.Sprintf("%d\x00%s\x00%s\x00%s", year, sub, item, name)
}

func (s *Service) existingLineKeys(ctx context.Context) (map[string]bool, error) {
	keys := map[string]bool{}
	err := s.lines.Each(ctx, bson.M{}, func(cur *mongo.Cursor) error {
		var l BudgetLine
		if err := cur.Decode(&l); err != nil {
			return err
		}
		keys[lineKey(l.FiscalYear, l.SubDistrict, l.ItemCode, l.ProjectName)] = true
		return nil
	}, options.Find().SetProjection(bson.M{"fiscal_year": 1, "sub_district": 1, "item_code": 1, "project_name": 1}))
	return keys, err
}

// writeImport inserts a validated file under a pending batch; if an insert
// fails (a line created meanwhile), the batch's lines are removed again.
func (s *Service) writeImport(ctx context.Context, p auth.Principal, batch string, lines []*BudgetLine) error {
	batches := s.store.Collection(importBatchesCollection)
	if err := batches.InsertOne(ctx, importBatch{ID: batch, State: "pending", Rows: len(lines), By: p.UserID, CreatedAt: s.now()}); err != nil {
		return fmt.Errorf("budgetlink: unable to start import: %w", err)
	}
	docs := make([]any, len(lines))
	for i, l := range lines {
		docs[i] = l
	}
	if err := s.lines.InsertMany(ctx, docs); err != nil {
		if rerr := s.rollbackImport(ctx, batch); rerr != nil {
			return errors.Join(err, rerr)
		}
		if errors.Is(err, minsheng.ErrDuplicate) {
			return minsheng.Errorf(minsheng.ECONFLICT, "导入期间有相同的预算项目被创建，未导入任何数据，请重新导入")
		}
		return fmt.Errorf("budgetlink: unable to import lines: %w", err)
	}
	if _, err := batches.UpdateOne(ctx, bson.M{"_id": batch}, bson.M{"$set": bson.M{"state": "done"}}); err != nil {
		return fmt.Errorf("budgetlink: unable to finish import: %w", err)
	}
	return nil
}

// rollbackImport removes a batch's lines that nobody has touched yet.
func (s *Service) rollbackImport(ctx context.Context, batch string) error {
	if _, err := s.lines.DeleteMany(ctx, bson.M{"import_batch": batch, "version": int64(0)}); err != nil {
		return fmt.Errorf("budgetlink: unable to roll back import %s: %w", batch, err)
	}
	_, err := s.store.Collection(importBatchesCollection).UpdateOne(ctx, bson.M{"_id": batch}, bson.M{"$set": bson.M{"state": "rolled_back"}})
	return err
}
