package ledger

import (
	"bytes"
	"context"
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
