package budgetlink

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/internal/auth"
)

// workbook builds an XLSX file whose first sheet holds rows.
func workbook(t testing.TB, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func header() []any {
	h := make([]any, len(ImportColumns))
	for i, c := range ImportColumns {
		h[i] = c
	}
	return h
}

func lineCount(t testing.TB, s *Service) int64 {
	t.Helper()
	n, err := s.lines.Count(context.Background(), bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestImportRefusals is the must-show: a broken file, a wrong
// column, a negative amount, an unknown item code, an unknown sub-district
// and a duplicate row are all refused with row and column, and nothing is
// imported.
func TestImportRefusals(t *testing.T) {
	ctx := context.Background()
	good := []any{2026, "xinjiekou", bulkyItem, "大件垃圾清运", 1_200_000}
	tests := []struct {
		name string
		file []byte
		want map[string]string // field key → part of its message
	}{
		{"broken file", []byte("PK\x03\x04 this is not a workbook"), map[string]string{"file": "不是有效的 XLSX"}},
		{"wrong column", workbook(t, [][]any{{"财年", "街道编码", "分类", "项目名称", "批复金额（分）"}, good}),
			map[string]string{"C1": "表头应为「支出分类编码」，实际为「分类」"}},
		{"missing column", workbook(t, [][]any{{"财年", "街道编码", "支出分类编码", "项目名称"}, good}),
			map[string]string{"E1": "表头应为「批复金额（分）」"}},
		{"negative amount", workbook(t, [][]any{header(), good, {2026, "xinjiekou", "CG-01-01", "垃圾分类", -500}}),
			map[string]string{"E3": "不能为负数"}},
		{"amount beyond the bound", workbook(t, [][]any{header(), good, {2026, "xinjiekou", "CG-01-01", "垃圾分类", "9223372036854775807"}}),
			map[string]string{"E3": "超过上限 100 亿元"}},
		{"fractional amount", workbook(t, [][]any{header(), good, {2026, "xinjiekou", "CG-01-01", "垃圾分类", "12.5"}}),
			map[string]string{"E3": "须为整数"}},
		{"unknown item code", workbook(t, [][]any{header(), good, {2026, "xinjiekou", "ZZ-99-99", "不明项目", 100}}),
			map[string]string{"C3": "支出分类编码不存在：ZZ-99-99"}},
		{"unknown sub-district", workbook(t, [][]any{header(), good, {2026, "nowhere", bulkyItem, "大件垃圾清运", 100}}),
			map[string]string{"B3": "街道不存在：nowhere"}},
		{"duplicate row", workbook(t, [][]any{header(), good, {2026, "desheng", bulkyItem, "大件垃圾清运", 5}, good}),
			map[string]string{"D4": "与第 2 行重复"}},
		{"every problem at once", workbook(t, [][]any{header(),
			good,
			{2026, "xinjiekou", "CG-01-01", "垃圾分类", -1},
			{2026, "xinjiekou", "ZZ-99-99", "x", 1},
			{"明年", "nowhere", bulkyItem, "", 1},
			good,
		}), map[string]string{"E3": "负数", "C4": "不存在", "A5": "不是有效年份", "B5": "街道不存在", "D5": "必填", "D6": "重复"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newService(t)
			res, err := s.ImportLines(ctx, finance, bytes.NewReader(tt.file))
			wantCode(t, err, minsheng.EINVALID)
			fields := minsheng.ErrorFields(err)
			for key, part := range tt.want {
				if !strings.Contains(fields[key], part) {
					t.Errorf("field %s = %q, want it to contain %q (all: %v)", key, fields[key], part, fields)
				}
			}
			if len(fields) != len(tt.want) {
				t.Errorf("fields = %v, want exactly %d", fields, len(tt.want))
			}
			if res == nil || len(res.Problems) != len(tt.want) {
				t.Errorf("problems = %+v, want %d", res, len(tt.want))
			}
			if n := lineCount(t, s); n != 0 {
				t.Errorf("%d lines imported from a refused file, want none", n)
			}
		})
	}
	t.Run("problem text", func(t *testing.T) {
		s := newService(t)
		res, _ := s.ImportLines(ctx, finance, bytes.NewReader(workbook(t, [][]any{header(), {2026, "xinjiekou", bulkyItem, "大件垃圾清运", -3}})))
		if got, want := res.Problems[0].String(), "第 2 行 E 列（批复金额（分））：批复金额不能为负数：-3"; got != want {
			t.Errorf("problem = %q, want %q", got, want)
		}
	})
	t.Run("roles", func(t *testing.T) {
		s := newService(t)
		for _, p := range []auth.Principal{resident, cadre, xjkStaff} {
			_, err := s.ImportLines(ctx, p, bytes.NewReader(workbook(t, [][]any{header(), good})))
			wantCode(t, err, minsheng.EFORBIDDEN)
		}
	})
}

func TestImportExportRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	file := workbook(t, [][]any{header(),
		{2026, "xinjiekou", bulkyItem, "大件垃圾清运", 1_200_005},
		{2026, "xinjiekou", "CG-01-01", "垃圾分类驿站", 800_000},
		{"2026", "desheng", bulkyItem, "大件垃圾清运", "650000"},
		{}, // blank rows are skipped
	})
	res, err := s.ImportLines(ctx, finance, bytes.NewReader(file))
	if err != nil || res.Imported != 3 {
		t.Fatalf("import = %+v, %v", res, err)
	}
	t.Run("the new ids are returned in row order", func(t *testing.T) {
		if len(res.LineIDs) != 3 {
			t.Fatalf("line ids = %v, want 3", res.LineIDs)
		}
		for i, want := range []string{"大件垃圾清运", "垃圾分类驿站", "大件垃圾清运"} {
			l := mustGet(t, s, res.LineIDs[i])
			if l.ProjectName != want || l.ImportBatch != res.Batch {
				t.Errorf("row %d: line %s is %q of batch %q, want %q of %q", i+2, l.ID, l.ProjectName, l.ImportBatch, want, res.Batch)
			}
		}
	})
	t.Run("re-import refused as existing", func(t *testing.T) {
		_, err := s.ImportLines(ctx, finance, bytes.NewReader(file))
		wantCode(t, err, minsheng.EINVALID)
		if f := minsheng.ErrorFields(err); len(f) != 3 || !strings.Contains(f["D2"], "已存在") {
			t.Errorf("fields = %v", f)
		}
		if n := lineCount(t, s); n != 3 {
			t.Errorf("lines = %d, want 3", n)
		}
	})
	reviewed := findLine(t, s, "desheng", bulkyItem)
	for _, st := range []string{ReviewBefore, ReviewAfter} {
		if _, err := s.Review(ctx, finance, reviewed, st, "评审意见"); err != nil {
			t.Fatal(err)
		}
	}

	var out bytes.Buffer
	if err := s.ExportLines(ctx, finance, 2026, "", &out); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); len(got) != 2 || got[0] != "预算项目" || got[1] != "执行汇总" {
		t.Fatalf("sheets = %v", got)
	}
	rows, err := f.GetRows("预算项目")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("rows = %d, want header + 3", len(rows))
	}
	var found bool
	for _, r := range rows[1:] {
		if r[2] == bulkyItem && r[1] == "xinjiekou" {
			found = true
			if r[4] != "1200005" || r[16] != "12,000.05元" {
				t.Errorf("approved fen/yuan = %q/%q, want 1200005/12,000.05元", r[4], r[16])
			}
		}
	}
	if !found {
		t.Errorf("xinjiekou bulky-waste line missing from export: %v", rows)
	}
	t.Run("yuan columns are numbers Excel sums", func(t *testing.T) {
		raw, err := f.GetRows("预算项目", excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, col := range []string{"Q", "R", "S", "T", "U"} {
			typ, err := f.GetCellType("预算项目", col+"2")
			if err != nil || typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
				t.Errorf("%s2 type = %v, %v; want a number", col, typ, err)
			}
		}
		if got, want := raw[0][18], "已预留（元）"; got != want {
			t.Errorf("header S1 = %q, want %q", got, want)
		}
		if err := f.SetCellFormula("预算项目", "Q10", "SUM(Q2:Q4)"); err != nil {
			t.Fatal(err)
		}
		got, err := f.CalcCellValue("预算项目", "Q10", excelize.Options{RawCellValue: true})
		if want := "26500.05"; err != nil || got != want {
			t.Errorf("SUM of 批复金额（元） = %q, %v; want %q", got, err, want)
		}
	})
	t.Run("every review stage is listed", func(t *testing.T) {
		for _, r := range rows[1:] {
			if r[1] == "desheng" {
				if got, want := r[15], "事前评审、事后评审"; got != want {
					t.Errorf("review stages = %q, want %q", got, want)
				}
			}
		}
	})
	t.Run("export re-imports", func(t *testing.T) {
		fresh := newService(t)
		res, err := fresh.ImportLines(ctx, finance, bytes.NewReader(out.Bytes()))
		if err != nil || res.Imported != 3 {
			t.Fatalf("re-import of the export = %+v, %v", res, err)
		}
	})
	t.Run("sub-district staff export only their own", func(t *testing.T) {
		var buf bytes.Buffer
		if err := s.ExportLines(ctx, dsStaff, 2026, "", &buf); err != nil {
			t.Fatal(err)
		}
		f, _ := excelize.OpenReader(&buf)
		rows, _ := f.GetRows("预算项目")
		if len(rows) != 2 || rows[1][1] != "desheng" {
			t.Errorf("desheng export rows = %v", rows)
		}
		wantCode(t, s.ExportLines(ctx, dsStaff, 2026, "xinjiekou", &buf), minsheng.EFORBIDDEN)
	})
}

// findLine returns the id of the line of sub-district and item.
func findLine(t *testing.T, s *Service, sub, item string) string {
	t.Helper()
	ls, _, err := s.Lines(context.Background(), finance, LineFilter{SubDistrict: sub})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.ItemCode == item {
			return l.ID
		}
	}
	t.Fatalf("no line %s/%s", sub, item)
	return ""
}

// TestExportKeepsFormulaTextAsText: a project name typed as a formula is
// exported as a text cell, never a formula (excelize's stream writer stores
// a Go string as an inline string), so the XLSX needs no ' prefix and its
// names re-import unchanged.
func TestExportKeepsFormulaTextAsText(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	names := map[string]string{
		"xinjiekou": `=HYPERLINK("http://x","点我")`,
		"desheng":   "=1+1",
	}
	for sub, name := range names {
		if _, err := s.CreateLine(ctx, finance, NewLine{FiscalYear: 2026, SubDistrict: sub, ItemCode: bulkyItem, ProjectName: name, ApprovedFen: 100}); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := s.ExportLines(ctx, finance, 2026, "", &out); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("预算项目")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("rows = %d, want header + 2", len(rows))
	}
	for i, r := range rows[1:] {
		cell, _ := excelize.CoordinatesToCellName(4, i+2) // 项目名称
		if want := names[r[1]]; r[3] != want {
			t.Errorf("%s = %q, want %q", cell, r[3], want)
		}
		if formula, err := f.GetCellFormula("预算项目", cell); err != nil || formula != "" {
			t.Errorf("%s formula = %q, %v; want none", cell, formula, err)
		}
		if typ, err := f.GetCellType("预算项目", cell); err != nil || (typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString) {
			t.Errorf("%s type = %v, %v; want a string", cell, typ, err)
		}
	}
	// The raw sheet XML has no <f> element at all.
	if x := zipEntry(t, out.Bytes(), "xl/worksheets/sheet1.xml"); bytes.Contains(x, []byte("<f>")) || bytes.Contains(x, []byte("<f ")) {
		t.Error("sheet1.xml contains a formula element")
	}
}

// zipEntry is the content of the named file in a zip archive (an XLSX).
func zipEntry(t *testing.T, archive []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
