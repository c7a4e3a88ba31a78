package reports

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"go.mongodb.org/mongo-driver/v2/bson"

	"minsheng"
	"minsheng/budgetlink/ledger"
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
	h := make([]any, len(ledger.ImportColumns))
	for i, c := range ledger.ImportColumns {
		h[i] = c
	}
	return h
}

func lineCount(t testing.TB, s service) int64 {
	t.Helper()
	n, err := s.st.Collection("budget_lines").Count(context.Background(), bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	return n
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
	for _, st := range []string{ledger.ReviewBefore, ledger.ReviewAfter} {
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
	if got := f.GetSheetList(); len(got) != 3 || got[0] != "预算项目" || got[1] != "执行汇总" || got[2] != "导入格式" {
		t.Fatalf("sheets = %v", got)
	}
	rows, err := f.GetRows("预算项目")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("rows = %d, want header + 3 + 合计", len(rows))
	}
	t.Run("Chinese columns in a finance officer's order, no machine columns first", func(t *testing.T) {
		want := []string{"街道", "项目名称", "支出分类编码", "支出分类", "批复（元）", "调整（元）", "调整后预算（元）", "已预留（元）", "已支出（元）", "可用（元）", "执行率", "调整次数", "评审阶段", "预算项目编号"}
		if !slices.Equal(rows[0], want) {
			t.Errorf("header = %v\nwant     %v", rows[0], want)
		}
	})
	var found bool
	for _, r := range rows[1:4] {
		if r[2] == bulkyItem && r[0] == "新街口街道" {
			found = true
			if r[4] != "12,000.05元" || r[5] != "0.00元" {
				t.Errorf("approved/adjusted = %q/%q, want 12,000.05元/0.00元", r[4], r[5])
			}
		}
	}
	if !found {
		t.Errorf("xinjiekou bulky-waste line missing from export: %v", rows)
	}
	t.Run("yuan columns are numbers Excel sums, and the 合计 row is exact", func(t *testing.T) {
		for _, col := range []string{"E", "F", "G", "H", "I", "J", "K"} {
			for _, r := range []string{"2", "5"} {
				typ, err := f.GetCellType("预算项目", col+r)
				if err != nil || typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
					t.Errorf("%s%s type = %v, %v; want a number", col, r, typ, err)
				}
			}
		}
		if got := rows[4][0]; got != "合计" {
			t.Errorf("last row starts %q, want 合计", got)
		}
		if got, want := rows[4][4], "26,500.05元"; got != want {
			t.Errorf("合计 批复 = %q, want %q", got, want)
		}
		if err := f.SetCellFormula("预算项目", "E10", "SUM(E2:E4)"); err != nil {
			t.Fatal(err)
		}
		got, err := f.CalcCellValue("预算项目", "E10", excelize.Options{RawCellValue: true})
		if want := "26500.05"; err != nil || got != want {
			t.Errorf("SUM of 批复（元） = %q, %v; want %q", got, err, want)
		}
	})
	t.Run("every review stage is listed", func(t *testing.T) {
		for _, r := range rows[1:4] {
			if r[0] == "德胜街道" {
				if got, want := r[12], "事前评审、事后评审"; got != want {
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
		if len(rows) != 3 || rows[1][0] != "德胜街道" || rows[2][0] != "合计" {
			t.Errorf("desheng export rows = %v", rows)
		}
		wantCode(t, s.ExportLines(ctx, dsStaff, 2026, "xinjiekou", &buf), minsheng.EFORBIDDEN)
	})
}

// findLine returns the id of the line of sub-district and item.
func findLine(t *testing.T, s service, sub, item string) string {
	t.Helper()
	ls, _, err := s.Lines(context.Background(), finance, ledger.LineFilter{SubDistrict: sub})
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
		if _, err := s.CreateLine(ctx, finance, ledger.NewLine{FiscalYear: 2026, SubDistrict: sub, ItemCode: bulkyItem, ProjectName: name, ApprovedFen: 100}); err != nil {
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
	if len(rows) != 4 {
		t.Fatalf("rows = %d, want header + 2 + 合计", len(rows))
	}
	byName := map[string]string{"新街口街道": names["xinjiekou"], "德胜街道": names["desheng"]}
	for i, r := range rows[1:3] {
		cell, _ := excelize.CoordinatesToCellName(2, i+2) // 项目名称
		if want := byName[r[0]]; r[1] != want {
			t.Errorf("%s = %q, want %q", cell, r[1], want)
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
