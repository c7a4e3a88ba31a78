package catalog

import (
	"bytes"
	"encoding/csv"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"minsheng"
)

func loadCatalog2026(t *testing.T) *Catalog {
	t.Helper()
	c, err := LoadCatalog(2026)
	if err != nil {
		t.Fatalf("LoadCatalog(2026): %v", err)
	}
	return c
}

func TestLoadCatalog(t *testing.T) {
	c := loadCatalog2026(t)

	t.Run("header", func(t *testing.T) {
		if got, want := c.FiscalYear, 2026; got != want {
			t.Errorf("fiscal year: got %d, want %d", got, want)
		}
		if got, want := c.Version, "2026.1"; got != want {
			t.Errorf("version: got %q, want %q", got, want)
		}
	})

	t.Run("at least 140 items", func(t *testing.T) {
		if got := len(c.Items); got < 140 {
			t.Errorf("items: got %d, want at least 140", got)
		}
	})

	t.Run("validates", func(t *testing.T) {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate: %v", err)
		}
	})

	t.Run("six areas, each category has items", func(t *testing.T) {
		var codes []string
		perCategory := map[string]int{}
		for _, it := range c.Items {
			perCategory[it.Category]++
		}
		for _, a := range c.Areas {
			codes = append(codes, a.Code)
			n := 0
			for _, cat := range a.Categories {
				if perCategory[cat.Code] == 0 {
					t.Errorf("category %s %s has no items", cat.Code, cat.Name)
				}
				n += perCategory[cat.Code]
			}
			if n == 0 {
				t.Errorf("area %s %s has no items", a.Code, a.Name)
			}
			t.Logf("area %s %s: %d items", a.Code, a.Name, n)
		}
		if want := []string{"ZH", "DQ", "MS", "SQ", "CG", "PA"}; !slices.Equal(codes, want) {
			t.Errorf("areas: got %v, want %v", codes, want)
		}
	})

	t.Run("budget rule: personnel by actual, money in fen", func(t *testing.T) {
		for _, it := range c.Items {
			if it.ExpenseClass == CatalogPersonnel && (it.BudgetMethod != CatalogActual || !it.Sanbao) {
				t.Errorf("%s: personnel item must be actual and 三保, got %s sanbao=%v", it.Code, it.BudgetMethod, it.Sanbao)
			}
			if it.ExpenseClass == CatalogOperating && !it.Sanbao {
				t.Errorf("%s: operating item must be 三保", it.Code)
			}
		}
	})

	t.Run("unknown year", func(t *testing.T) {
		_, err := LoadCatalog(1999)
		if !errors.Is(err, minsheng.ErrNotFound) {
			t.Fatalf("got %v, want an error wrapping ErrNotFound", err)
		}
		if got, want := minsheng.ErrorCode(err), minsheng.ENOTFOUND; got != want {
			t.Errorf("code: got %q, want %q", got, want)
		}
	})

	t.Run("fiscal years", func(t *testing.T) {
		if got := CatalogFiscalYears(); !slices.Contains(got, 2026) {
			t.Errorf("got %v, want it to contain 2026", got)
		}
	})

	t.Run("fresh copy per load", func(t *testing.T) {
		c.Items[0].Name = "changed"
		again := loadCatalog2026(t)
		if again.Items[0].Name == "changed" {
			t.Errorf("a loaded catalog shares state with the next load")
		}
	})
}

func TestCatalogItem(t *testing.T) {
	c := loadCatalog2026(t)
	tests := []struct {
		code     string
		wantName string
		wantOK   bool
	}{
		{"SQ-05-04", "旱厕改造", true},
		{"CG-01-02", "大件垃圾清运处置", true},
		{"CG-01-01", "道路清扫保洁", true},
		{"CG-02-02", "街巷准物业服务", true},
		{"XX-01-01", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			it, ok := c.Item(tt.code)
			if ok != tt.wantOK || it.Name != tt.wantName {
				t.Errorf("got %q, %v; want %q, %v", it.Name, ok, tt.wantName, tt.wantOK)
			}
		})
	}

	t.Run("quota standards", func(t *testing.T) {
		for _, tt := range []struct{ code, unit string }{{"SQ-05-04", "座"}, {"CG-01-02", "吨"}} {
			it, _ := c.Item(tt.code)
			if it.BudgetMethod != CatalogQuota || it.Unit != tt.unit || it.UnitFen <= 0 {
				t.Errorf("%s: got %s %q %d fen, want quota per %q", tt.code, it.BudgetMethod, it.Unit, it.UnitFen, tt.unit)
			}
		}
	})
}

// TestDesignExamplesResolveToOneItem covers the needs the source article
// names (旱厕改造, 养老驿站, 停车自治, 大件垃圾清运 …): each must land on
// exactly one catalog item.
func TestDesignExamplesResolveToOneItem(t *testing.T) {
	c := loadCatalog2026(t)
	tests := []struct {
		phrase   string
		wantCode string
	}{
		{"旱厕改造", "SQ-05-04"},
		{"养老驿站", "MS-02-01"},
		{"停车自治", "SQ-03-02"},
		{"大件垃圾清运处置", "CG-01-02"},
	}
	for _, tt := range tests {
		t.Run(tt.phrase, func(t *testing.T) {
			var byKeyword, byName []string
			for _, it := range c.Items {
				for _, kw := range it.Keywords {
					if strings.Contains(tt.phrase, kw) {
						byKeyword = append(byKeyword, it.Code)
						break
					}
				}
				if strings.Contains(it.Name, tt.phrase) {
					byName = append(byName, it.Code)
				}
			}
			if want := []string{tt.wantCode}; !slices.Equal(byKeyword, want) {
				t.Errorf("items claiming it by keyword: got %v, want %v", byKeyword, want)
			}
			if want := []string{tt.wantCode}; !slices.Equal(byName, want) {
				t.Errorf("items naming it: got %v, want %v", byName, want)
			}
			got := c.Suggest("", tt.phrase, 1)
			if len(got) != 1 || got[0].Code != tt.wantCode {
				t.Errorf("Suggest top-1: got %+v, want %s", got, tt.wantCode)
			}
		})
	}

	t.Run("bulky waste is not claimed by road cleaning or alley services", func(t *testing.T) {
		bulky, _ := c.Item("CG-01-02")
		for _, other := range []string{"CG-01-01", "CG-02-02"} {
			it, _ := c.Item(other)
			for _, kw := range it.Keywords {
				for _, bkw := range bulky.Keywords {
					if strings.Contains(kw, bkw) || strings.Contains(bkw, kw) {
						t.Errorf("%s keyword %q overlaps bulky-waste keyword %q", other, kw, bkw)
					}
				}
				if strings.Contains("大件垃圾清运处置", kw) {
					t.Errorf("%s keyword %q matches 大件垃圾清运处置", other, kw)
				}
			}
		}
	})
}

func TestSuggestResidentSentences(t *testing.T) {
	c := loadCatalog2026(t)
	tests := []struct {
		name, area, text, wantCode string
	}{
		{"dry toilet in Fengsheng courtyard 10", "", "丰盛社区10号院旱厕地面不平，需要人工清掏", "SQ-05-04"},
		{"old sofa and mattress in stairwell", "", "楼道里堆了旧沙发床垫，需要清运", "CG-01-02"},
		{"bulky waste left in courtyard", "", "院里有居民扔了大件垃圾，一直没人清运处置", "CG-01-02"},
		{"bulky waste with area hint", "CG", "大件垃圾清运处置", "CG-01-02"},
		{"no elderly-care station nearby", "", "小区附近没有养老驿站，老人吃饭不方便", "MS-02-01"},
		{"hutong parking", "", "胡同里停车难，希望居民自己商量停车自治", "SQ-03-02"},
		{"broken street lamp", "", "胡同口的路灯坏了，晚上很黑", "CG-04-01"},
		{"restaurant fumes", "", "楼下饭馆油烟太大，熏得没法开窗", "CG-06-03"},
		{"e-bike charging cable", "", "有人从窗户拉电线飞线充电，太危险了", "PA-02-04"},
		{"rats", "", "家里有老鼠，希望社区统一灭鼠", "MS-06-02"},
		{"neighbour dispute", "", "和楼上有邻里纠纷，希望社区帮忙调解", "PA-04-01"},
		{"dirty public toilet", "", "胡同公厕很脏，好几天没人打扫", "CG-01-05"},
		{"waste sorting", "", "小区垃圾分类没人指导，厨余垃圾乱扔", "CG-01-03"},
		{"lift installation", "", "我们是六层老楼，想加装电梯", "SQ-05-02"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Suggest(tt.area, tt.text, 3)
			if len(got) == 0 {
				t.Fatalf("got no suggestions, want %s", tt.wantCode)
			}
			if got[0].Code != tt.wantCode {
				t.Errorf("top-1: got %s %s (%d), want %s; all: %+v", got[0].Code, got[0].Name, got[0].Score, tt.wantCode, got)
			}
			if len(got[0].Why) == 0 {
				t.Errorf("top-1 has no explanation")
			}
		})
	}
}

func TestSuggestOrderingAndLimits(t *testing.T) {
	c := loadCatalog2026(t)
	text := "社区老旧小区楼道灯不亮，院落下水道堵塞，还有大件垃圾和装修垃圾没人清运"

	t.Run("returns n results sorted", func(t *testing.T) {
		for _, n := range []int{1, 3, 5, 10} {
			got := c.Suggest("", text, n)
			if len(got) != n {
				t.Fatalf("n=%d: got %d results", n, len(got))
			}
			sorted := slices.IsSortedFunc(got, func(a, b Suggestion) int {
				if a.Score != b.Score {
					return b.Score - a.Score
				}
				return strings.Compare(a.Code, b.Code)
			})
			if !sorted {
				t.Errorf("n=%d: not sorted by score desc, code asc: %+v", n, got)
			}
		}
	})

	t.Run("n <= 0 and empty text return nothing", func(t *testing.T) {
		if got := c.Suggest("", text, 0); got != nil {
			t.Errorf("n=0: got %v", got)
		}
		if got := c.Suggest("CG", "", 5); got != nil {
			t.Errorf("empty text: got %v", got)
		}
	})

	t.Run("area bonus", func(t *testing.T) {
		plain := c.Suggest("", "垃圾", 200)
		boosted := c.Suggest("CG", "垃圾", 200)
		scores := map[string]int{}
		for _, s := range plain {
			scores[s.Code] = s.Score
		}
		for _, s := range boosted {
			want := scores[s.Code]
			if strings.HasPrefix(s.Code, "CG-") {
				want += catalogAreaBonus
			}
			if s.Score != want {
				t.Errorf("%s: got %d, want %d", s.Code, s.Score, want)
			}
		}
	})

	t.Run("ties broken by code", func(t *testing.T) {
		tie := &Catalog{Items: []CatalogItem{
			{Code: "ZZ-01-03", Name: "井盖", Keywords: []string{"井盖"}},
			{Code: "ZZ-01-01", Name: "井盖", Keywords: []string{"井盖"}},
			{Code: "ZZ-01-02", Name: "井盖", Keywords: []string{"井盖"}},
		}}
		got := tie.Suggest("", "井盖丢了", 3)
		var codes []string
		for _, s := range got {
			codes = append(codes, s.Code)
		}
		if want := []string{"ZZ-01-01", "ZZ-01-02", "ZZ-01-03"}; !slices.Equal(codes, want) {
			t.Errorf("got %v, want %v", codes, want)
		}
		if got[0].Score != got[2].Score {
			t.Errorf("scores differ: %+v", got)
		}
	})
}

func TestCatalogValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Catalog)
		want   string // part of the message
	}{
		{"duplicate code", func(c *Catalog) { c.Items[1].Code = c.Items[0].Code }, "项目编码重复"},
		{"unknown area", func(c *Catalog) { c.Items[0].Area = "XX" }, "领域"},
		{"category of another area", func(c *Catalog) { c.Items[0].Category = "PA-01" }, "类别"},
		{"code outside its category", func(c *Catalog) { c.Items[0].Code = "ZH-02-99" }, "项目编码"},
		{"unknown expense class", func(c *Catalog) { c.Items[0].ExpenseClass = "misc" }, "支出类型"},
		{"unknown budget method", func(c *Catalog) { c.Items[0].BudgetMethod = "guess" }, "预算方法"},
		{"quota without unit", func(c *Catalog) { setQuota(c, "SQ-05-04", "", 5000000) }, "定额项目"},
		{"quota with zero fen", func(c *Catalog) { setQuota(c, "SQ-05-04", "座", 0) }, "定额项目"},
		{"standard on a non-quota item", func(c *Catalog) { setQuota(c, "SQ-03-02", "个", 100) }, "非定额项目"},
		{"zero sla", func(c *Catalog) { c.Items[0].SLADays = 0 }, "办结时限"},
		{"keyword claimed twice", func(c *Catalog) { addKeyword(c, "CG-01-01", "大件垃圾") }, "关键词"},
		{"keyword containing another item's", func(c *Catalog) { addKeyword(c, "CG-02-02", "胡同大件垃圾") }, "关键词"},
		{"empty keyword", func(c *Catalog) { addKeyword(c, "CG-02-02", " ") }, "空关键词"},
		{"missing version", func(c *Catalog) { c.Version = "" }, "版本"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := loadCatalog2026(t)
			tt.mutate(c)
			err := c.Validate()
			if got, want := minsheng.ErrorCode(err), minsheng.EINVALID; got != want {
				t.Fatalf("code: got %q (%v), want %q", got, err, want)
			}
			if msg := minsheng.ErrorMessage(err); !strings.Contains(msg, tt.want) {
				t.Errorf("message: got %q, want it to mention %q", msg, tt.want)
			}
		})
	}
}

func setQuota(c *Catalog, code, unit string, fen int64) {
	for i := range c.Items {
		if c.Items[i].Code == code {
			c.Items[i].Unit, c.Items[i].UnitFen = unit, fen
		}
	}
}

func addKeyword(c *Catalog, code, kw string) {
	for i := range c.Items {
		if c.Items[i].Code == code {
			c.Items[i].Keywords = append(c.Items[i].Keywords, kw)
		}
	}
}

func TestCatalogWriteCSV(t *testing.T) {
	c := loadCatalog2026(t)
	var buf bytes.Buffer
	if err := c.WriteCSV(&buf); err != nil {
		t.Fatalf("WriteCSV: %v", err)
	}
	data := buf.Bytes()

	t.Run("starts with a UTF-8 BOM", func(t *testing.T) {
		if !bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
			t.Errorf("got prefix % x, want EF BB BF", data[:3])
		}
	})

	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")))).ReadAll()
	if err != nil {
		t.Fatalf("reading back: %v", err)
	}

	t.Run("header", func(t *testing.T) {
		if got, want := rows[0], catalogCSVHeader; !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
		if got, want := rows[0][0], "编码"; got != want {
			t.Errorf("first column: got %q, want %q", got, want)
		}
	})

	t.Run("round trip", func(t *testing.T) {
		if got, want := len(rows), len(c.Items)+1; got != want {
			t.Fatalf("rows: got %d, want %d", got, want)
		}
		for i, it := range c.Items {
			row := rows[i+1]
			fen := int64(0)
			if row[11] != "" {
				if fen, err = strconv.ParseInt(row[11], 10, 64); err != nil {
					t.Fatalf("%s: unit_fen %q: %v", it.Code, row[11], err)
				}
			}
			sla, err := strconv.Atoi(row[14])
			if err != nil {
				t.Fatalf("%s: sla %q: %v", it.Code, row[14], err)
			}
			got := CatalogItem{
				Code: row[0], Name: row[1], NameEn: row[2], Area: row[3], Category: row[5],
				Sanbao: row[9] == "是", Unit: row[10], UnitFen: fen,
				Keywords: strings.Split(row[13], "、"), SLADays: sla, Description: row[15],
				ExpenseClass: it.ExpenseClass, BudgetMethod: it.BudgetMethod,
			}
			if got.Code != it.Code || got.Name != it.Name || got.NameEn != it.NameEn || got.Area != it.Area ||
				got.Category != it.Category || got.Sanbao != it.Sanbao || got.Unit != it.Unit ||
				got.UnitFen != it.UnitFen || !slices.Equal(got.Keywords, it.Keywords) ||
				got.SLADays != it.SLADays || got.Description != it.Description {
				t.Errorf("row %d: got %+v, want %+v", i+1, got, it)
			}
			if row[7] != catalogClassLabels[it.ExpenseClass] || row[8] != catalogMethodLabels[it.BudgetMethod] {
				t.Errorf("%s: labels got %q/%q", it.Code, row[7], row[8])
			}
		}
	})

	t.Run("yuan column", func(t *testing.T) {
		for _, row := range rows[1:] {
			if row[0] == "SQ-05-04" {
				if got, want := row[12], "50000.00"; got != want {
					t.Errorf("旱厕改造 yuan: got %q, want %q", got, want)
				}
			}
		}
		for _, tt := range []struct {
			fen  int64
			want string
		}{{5, "0.05"}, {65000, "650.00"}, {-120, "-1.20"}} {
			if got := minsheng.YuanDecimal(tt.fen); got != tt.want {
				t.Errorf("minsheng.YuanDecimal(%d): got %q, want %q", tt.fen, got, tt.want)
			}
		}
	})
}

// TestCatalogCSVNeutralisesFormulas: a catalog text that starts a formula
// reaches the spreadsheet as text (a leading '), numbers stay numbers.
func TestCatalogCSVNeutralisesFormulas(t *testing.T) {
	c := loadCatalog2026(t)
	c.Items[0].Name = `=HYPERLINK("http://x","点我")`
	c.Items[0].Description = "@SUM(A1:A2)"
	c.Items[0].Keywords = []string{"-2+3"}
	var buf bytes.Buffer
	if err := c.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\xEF\xBB\xBF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	r := rows[1]
	for i, want := range map[int]string{1: `'=HYPERLINK("http://x","点我")`, 13: "'-2+3", 15: "'@SUM(A1:A2)", 0: c.Items[0].Code} {
		if r[i] != want {
			t.Errorf("column %d (%s) = %q, want %q", i, catalogCSVHeader[i], r[i], want)
		}
	}
}
