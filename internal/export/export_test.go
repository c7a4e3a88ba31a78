package export_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"minsheng/internal/export"
)

func TestCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`=HYPERLINK("http://x","点我")`, `'=HYPERLINK("http://x","点我")`},
		{"=1+1", "'=1+1"},
		{"+1", "'+1"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1:A2)", "'@SUM(A1:A2)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"\n=1", "'\n=1"},
		{"\x00=1", "'\x00=1"},
		{"＝1+1", "'＝1+1"},
		{"－1", "'－1"},
		{"-1e3", "'-1e3"},
		{"-", "'-"},
		// Unchanged: plain numbers (negative amounts too), ordinary text,
		// formula characters not in front, an already quoted cell.
		{"-12.50", "-12.50"},
		{"0", "0"},
		{"12.50", "12.50"},
		{"", ""},
		{"小区路灯不亮", "小区路灯不亮"},
		{"A1-2 楼道=堆物", "A1-2 楼道=堆物"},
		{"'=x", "'=x"},
	} {
		if got := export.Cell(tc.in); got != tc.want {
			t.Errorf("Cell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestRowThroughEncodingCSV checks what a spreadsheet receives: the quote
// first, then RFC 4180 quoting of the whole field.
func TestRowThroughEncodingCSV(t *testing.T) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	if err := w.Write(export.Row([]string{`=HYPERLINK("http://x","点我")`, "路灯, 不亮", "-12.50", "第一行\n第二行"})); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	want := `"'=HYPERLINK(""http://x"",""点我"")","路灯, 不亮",-12.50,"第一行` + "\r\n" + `第二行"` + "\r\n"
	if got := buf.String(); got != want {
		t.Errorf("csv = %q, want %q", got, want)
	}
}
