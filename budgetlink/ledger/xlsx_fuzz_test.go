package ledger

import (
	"bytes"
	"context"
	"testing"

	"minsheng"
)

// FuzzImportLines feeds arbitrary files to the XLSX budget import (zip,
// workbook XML, cells, validation). It must never panic; a file is either
// refused as EINVALID with its problems listed and nothing written, or
// imported whole: one line per data row.
func FuzzImportLines(f *testing.F) {
	good := []any{2026, "xinjiekou", bulkyItem, "大件垃圾清运", 1_200_000}
	for _, rows := range [][][]any{
		{header(), good},
		{header(), good, {2026, "desheng", "CG-01-01", "垃圾分类", 0}},
		{header(), {2026, "xinjiekou", bulkyItem, "大件垃圾清运", -5}},
		{header(), {2026, "xinjiekou", bulkyItem, "大件垃圾清运", "9223372036854775808"}},
		{header(), {2026, "xinjiekou", bulkyItem, "大件垃圾清运", "1e3"}},
		{header(), {"二〇二六", "新街口", "ZZ-99-99", "", "十二"}},
		{header(), {99999, "nowhere", bulkyItem, "\x00\u202e😀", 1}},
		{header(), good, good},
		{header()},
		{{"财年", "街道编码"}, good},
		{},
	} {
		f.Add(workbook(f, rows))
	}
	f.Add([]byte("PK\x03\x04 this is not a workbook"))
	f.Add([]byte{})
	s := newService(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, file []byte) {
		before := lineCount(t, s)
		res, err := s.ImportLines(ctx, finance, bytes.NewReader(file))
		after := lineCount(t, s)
		if err != nil {
			if minsheng.ErrorCode(err) != minsheng.EINVALID || res == nil || len(res.Problems) == 0 {
				t.Fatalf("ImportLines: %v (result %+v), want invalid with its problems", err, res)
			}
			if after != before {
				t.Fatalf("a refused file wrote %d lines", after-before)
			}
			return
		}
		if int64(res.Imported) != after-before || len(res.LineIDs) != res.Imported {
			t.Fatalf("imported %d (%d ids), %d lines written", res.Imported, len(res.LineIDs), after-before)
		}
	})
}
