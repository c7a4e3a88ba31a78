package catalog

// The standard expenditure catalog (街道支出分类): every sub-district books
// the same kind of spending under the same item, so that, for example,
// bulky-waste removal no longer sits under road cleaning in one sub-district
// and under alley property services in another. One versioned data file per
// fiscal year lives in catalogdata/ and is embedded in the binary.
//
// The FY2026 item structure follows the article's six areas and 140+ items;
// its quota standards (unit_fen) are illustrative planning figures, not
// published Xicheng standards, and must be replaced by the finance bureau's.

import (
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"

	"minsheng"
	"minsheng/internal/calendar"
	"minsheng/internal/export"
	"minsheng/internal/textsim"
)

//go:embed catalogdata/*.json
var catalogFiles embed.FS

// Expense classes of the Ministry of Finance's functional classification.
const (
	CatalogPersonnel = "personnel" // 人员类
	CatalogOperating = "operating" // 运转类
	CatalogProject   = "project"   // 特定目标类
)

// Budget methods: "人员经费按实际，公用经费按定额，项目经费依财力".
const (
	CatalogActual   = "actual"   // 按实际
	CatalogQuota    = "quota"    // 按定额
	CatalogCapacity = "capacity" // 依财力
)

var catalogClassLabels = map[string]string{
	CatalogPersonnel: "人员类",
	CatalogOperating: "运转类",
	CatalogProject:   "特定目标类",
}

var catalogMethodLabels = map[string]string{
	CatalogActual:   "按实际",
	CatalogQuota:    "按定额",
	CatalogCapacity: "依财力",
}

// Catalog is one fiscal year's version of the standard expenditure catalog.
type Catalog struct {
	FiscalYear int           `json:"fiscal_year"`
	Version    string        `json:"version"`
	Areas      []CatalogArea `json:"areas"`
	Items      []CatalogItem `json:"items"`
}

// CatalogArea is one of the six areas (综合保障, 党群工作, 民生保障, 社区建设,
// 城市管理, 平安建设) with its categories.
type CatalogArea struct {
	Code       string            `json:"code"`
	Name       string            `json:"name"`
	NameEn     string            `json:"name_en"`
	Categories []CatalogCategory `json:"categories"`
}

// CatalogCategory groups items within an area; its code is "AREA-NN".
type CatalogCategory struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	NameEn string `json:"name_en"`
}

// CatalogItem is one standard expenditure item; its code is "AREA-NN-NN".
type CatalogItem struct {
	Code        string `json:"code"`
	Name        string `json:"name"`
	NameEn      string `json:"name_en"`
	Description string `json:"description"`
	Area        string `json:"area"`
	Category    string `json:"category"`
	// ExpenseClass is CatalogPersonnel, CatalogOperating or CatalogProject.
	ExpenseClass string `json:"expense_class"`
	// BudgetMethod is CatalogActual, CatalogQuota or CatalogCapacity.
	BudgetMethod string `json:"budget_method"`
	// Sanbao marks spending on basic livelihood, wages or operations (三保),
	// which is funded before anything else.
	Sanbao bool `json:"sanbao"`
	// Unit and UnitFen are the quota standard (e.g. 5,000,000 fen per 座);
	// set exactly when BudgetMethod is CatalogQuota.
	Unit    string `json:"unit,omitempty"`
	UnitFen int64  `json:"unit_fen,omitempty"`
	// Keywords classify free text to this item; no two items share one.
	Keywords []string `json:"keywords"`
	// SLADays is the default completion deadline of a case booked here.
	SLADays int `json:"sla_days"`
}

// LoadCatalog returns a fresh copy of the embedded catalog for a fiscal year,
// validated. An unknown year returns an error wrapping minsheng.ErrNotFound.
func LoadCatalog(fiscalYear int) (*Catalog, error) {
	name := fmt.Sprintf("catalogdata/fy%d.json", fiscalYear)
	data, err := catalogFiles.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &minsheng.Error{
			Code:    minsheng.ENOTFOUND,
			Message: fmt.Sprintf("没有 %d 财年的街道支出分类", fiscalYear),
			Err:     minsheng.ErrNotFound,
		}
	} else if err != nil {
		return nil, fmt.Errorf("budgetlink: unable to read catalog %d: %w", fiscalYear, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var c Catalog
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("budgetlink: unable to decode catalog %d: %w", fiscalYear, err)
	}
	if c.FiscalYear != fiscalYear {
		return nil, fmt.Errorf("budgetlink: catalog file %s holds fiscal year %d", name, c.FiscalYear)
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("budgetlink: embedded catalog %d: %w", fiscalYear, err)
	}
	return &c, nil
}

// CatalogFiscalYears lists the fiscal years with an embedded catalog, ascending.
func CatalogFiscalYears() []int {
	entries, _ := catalogFiles.ReadDir("catalogdata")
	var years []int
	for _, e := range entries {
		var y int
		if _, err := fmt.Sscanf(e.Name(), "fy%d.json", &y); err == nil {
			years = append(years, y)
		}
	}
	slices.Sort(years)
	return years
}

// CatalogYearAt is the fiscal year of the catalog in force at t: the
// fiscal year of t when it has a catalog, else the nearest earlier year
// that has one (a new year runs on last year's classification until its
// own is added), else the earliest. 0 when no catalog is embedded. This is
// the one answer to "which catalog now": the site, the console, the cadre
// app, the demo and the start-up check all ask it.
func CatalogYearAt(t time.Time, zone *time.Location) int {
	years := CatalogFiscalYears()
	if len(years) == 0 {
		return 0
	}
	year, pick := calendar.FiscalYear(t, zone), years[0]
	for _, y := range years {
		if y <= year {
			pick = y
		}
	}
	return pick
}

// Item returns the item with the given code.
func (c *Catalog) Item(code string) (CatalogItem, bool) {
	for _, it := range c.Items {
		if it.Code == code {
			return it, true
		}
	}
	return CatalogItem{}, false
}

// Validate checks the catalog's rules and returns an EINVALID error listing
// every problem found: unique codes shaped AREA-NN-NN under a known area and
// category, known expense class and budget method, a unit and a positive
// unit_fen exactly on quota items, sla_days > 0, and no keyword claimed by
// two items — neither the same keyword nor one containing another's, since a
// text matching the longer would match both.
func (c *Catalog) Validate() error {
	var p catalogProblems
	if c.FiscalYear <= 0 {
		p.bad("财年无效：%d", c.FiscalYear)
	}
	if c.Version == "" {
		p.bad("缺少版本号")
	}
	areas, categories := p.checkAreas(c.Areas)
	codes := map[string]bool{}
	var claims []keywordClaim
	for _, it := range c.Items {
		if codes[it.Code] {
			p.bad("项目编码重复：%s", it.Code)
		}
		codes[it.Code] = true
		p.checkItem(it, areas, categories)
		claims = p.checkKeywords(it, claims)
	}
	if len(p) > 0 {
		return minsheng.Errorf(minsheng.EINVALID, "街道支出分类校验失败：%s", strings.Join(p, "；"))
	}
	return nil
}

// catalogProblems are the problems Validate found, in the order found.
type catalogProblems []string

func (p *catalogProblems) bad(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

// checkAreas checks the areas and their categories, and returns the set
// of area codes and each category's area.
func (p *catalogProblems) checkAreas(list []CatalogArea) (areas map[string]bool, categories map[string]string) {
	areas = map[string]bool{}
	categories = map[string]string{} // category code → area code
	for _, a := range list {
		if !isCatalogAreaCode(a.Code) {
			p.bad("领域编码 %q 应为两个大写字母", a.Code)
		}
		if areas[a.Code] {
			p.bad("领域编码重复：%s", a.Code)
		}
		areas[a.Code] = true
		if a.Name == "" {
			p.bad("领域 %s 缺少名称", a.Code)
		}
		for _, cat := range a.Categories {
			if !strings.HasPrefix(cat.Code, a.Code+"-") || !isTwoDigits(strings.TrimPrefix(cat.Code, a.Code+"-")) {
				p.bad("类别编码 %q 应为 %s-两位数字", cat.Code, a.Code)
			}
			if _, dup := categories[cat.Code]; dup {
				p.bad("类别编码重复：%s", cat.Code)
			}
			categories[cat.Code] = a.Code
			if cat.Name == "" {
				p.bad("类别 %s 缺少名称", cat.Code)
			}
		}
	}
	return areas, categories
}

// checkItem checks one item's fields but its code's uniqueness and its keywords.
func (p *catalogProblems) checkItem(it CatalogItem, areas map[string]bool, categories map[string]string) {
	if !areas[it.Area] {
		p.bad("项目 %s 的领域 %q 不存在", it.Code, it.Area)
	}
	if area, ok := categories[it.Category]; !ok || area != it.Area {
		p.bad("项目 %s 的类别 %q 不属于领域 %q", it.Code, it.Category, it.Area)
	}
	if !strings.HasPrefix(it.Code, it.Category+"-") || !isTwoDigits(strings.TrimPrefix(it.Code, it.Category+"-")) {
		p.bad("项目编码 %q 应为 类别编码-两位数字（类别 %s）", it.Code, it.Category)
	}
	if it.Name == "" {
		p.bad("项目 %s 缺少名称", it.Code)
	}
	if _, ok := catalogClassLabels[it.ExpenseClass]; !ok {
		p.bad("项目 %s 的支出类型 %q 无效", it.Code, it.ExpenseClass)
	}
	if _, ok := catalogMethodLabels[it.BudgetMethod]; !ok {
		p.bad("项目 %s 的预算方法 %q 无效", it.Code, it.BudgetMethod)
	}
	if it.BudgetMethod == CatalogQuota {
		if it.Unit == "" || it.UnitFen <= 0 {
			p.bad("定额项目 %s 须有计量单位和大于零的定额标准", it.Code)
		}
	} else if it.Unit != "" || it.UnitFen != 0 {
		p.bad("非定额项目 %s 不应有定额标准", it.Code)
	}
	if it.SLADays <= 0 {
		p.bad("项目 %s 的办结时限须大于零", it.Code)
	}
}

// keywordClaim is a keyword (trimmed, lower case) and the item claiming it.
type keywordClaim struct{ keyword, code string }

// checkKeywords checks the item's keywords against those claimed before it,
// and returns the claims with its own added.
func (p *catalogProblems) checkKeywords(it CatalogItem, claims []keywordClaim) []keywordClaim {
	if len(it.Keywords) == 0 {
		p.bad("项目 %s 缺少关键词", it.Code)
	}
	for _, kw := range it.Keywords {
		kw = strings.ToLower(strings.TrimSpace(kw))
		if kw == "" {
			p.bad("项目 %s 有空关键词", it.Code)
			continue
		}
		for _, other := range claims {
			if other.code != it.Code && (strings.Contains(kw, other.keyword) || strings.Contains(other.keyword, kw)) {
				p.bad("关键词“%s”（%s）与“%s”（%s）重叠", kw, it.Code, other.keyword, other.code)
			}
		}
		claims = append(claims, keywordClaim{kw, it.Code})
	}
	return claims
}

func isCatalogAreaCode(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

func isTwoDigits(s string) bool {
	return len(s) == 2 && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9'
}

// Suggestion is one candidate item for a piece of text, best first.
type Suggestion struct {
	Code  string   `json:"code"`
	Name  string   `json:"name"`
	Score int      `json:"score"`
	Why   []string `json:"why"`
}

// Scoring weights, in integer points. A keyword hit outweighs both the
// bigram similarity (at most 1000, in practice well under 300) of a
// loosely related item and the area bonus, so an explicit keyword wins.
const (
	catalogKeywordPoints = 300
	catalogAreaBonus     = 150
)

// Suggest classifies free text (a case's title and description) against the
// catalog and returns up to n items, best first. An item scores
// catalogKeywordPoints per keyword found in the text, plus the per-mille Dice
// similarity of character bigrams between the text and the item's name,
// keywords and description, plus catalogAreaBonus when it is in the given
// area ("" for none). Only items with a keyword hit or some similarity are
// returned; ties are broken by code so results are stable.
func (c *Catalog) Suggest(area, text string, n int) []Suggestion {
	if n <= 0 {
		return nil
	}
	lower := strings.ToLower(text)
	textGrams := textsim.Bigrams(text)
	var out []Suggestion
	for _, it := range c.Items {
		var hits []string
		for _, kw := range it.Keywords {
			if kw != "" && strings.Contains(lower, strings.ToLower(kw)) {
				hits = append(hits, kw)
			}
		}
		sim := textsim.Dice(textGrams, textsim.Bigrams(catalogProfile(it)))
		if len(hits) == 0 && sim == 0 {
			continue
		}
		s := Suggestion{Code: it.Code, Name: it.Name, Score: len(hits)*catalogKeywordPoints + sim}
		if len(hits) > 0 {
			s.Why = append(s.Why, fmt.Sprintf("关键词：%s（+%d）", strings.Join(hits, "、"), len(hits)*catalogKeywordPoints))
		}
		if sim > 0 {
			s.Why = append(s.Why, fmt.Sprintf("文字相似度 %d‰（+%d）", sim, sim))
		}
		if area != "" && it.Area == area {
			s.Score += catalogAreaBonus
			s.Why = append(s.Why, fmt.Sprintf("同一领域（+%d）", catalogAreaBonus))
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Suggestion) int {
		if a.Score != b.Score {
			return b.Score - a.Score
		}
		return strings.Compare(a.Code, b.Code)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// catalogProfile is the text an item is compared against; the separators
// keep bigrams from spanning two keywords.
func catalogProfile(it CatalogItem) string {
	return it.Name + " " + strings.Join(it.Keywords, " ") + " " + it.Description
}

// catalogCSVHeader is the export's header row, in Chinese for the finance
// staff who open it in Excel.
var catalogCSVHeader = []string{
	"编码", "名称", "英文名称", "领域编码", "领域", "类别编码", "类别",
	"支出类型", "预算方法", "三保", "计量单位", "定额标准（分）", "定额标准（元）",
	"关键词", "办结时限（天）", "说明",
}

// WriteCSV exports the items as CSV: UTF-8 with a byte-order mark so Excel
// detects the encoding, a Chinese header row, CRLF line ends, money in
// integer fen plus a yuan column formatted without floating point, and
// keywords joined by "、". A field that would start a formula gets a leading
// ' (export.Cell).
func (c *Catalog) WriteCSV(w io.Writer) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return fmt.Errorf("budgetlink: unable to write catalog csv: %w", err)
	}
	areaNames := map[string]string{}
	categoryNames := map[string]string{}
	for _, a := range c.Areas {
		areaNames[a.Code] = a.Name
		for _, cat := range a.Categories {
			categoryNames[cat.Code] = cat.Name
		}
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(catalogCSVHeader); err != nil {
		return fmt.Errorf("budgetlink: unable to write catalog csv: %w", err)
	}
	for _, it := range c.Items {
		sanbao := "否"
		if it.Sanbao {
			sanbao = "是"
		}
		fen, yuan := "", ""
		if it.UnitFen != 0 {
			fen = strconv.FormatInt(it.UnitFen, 10)
			yuan = minsheng.YuanDecimal(it.UnitFen)
		}
		row := []string{
			it.Code, it.Name, it.NameEn, it.Area, areaNames[it.Area], it.Category, categoryNames[it.Category],
			catalogClassLabels[it.ExpenseClass], catalogMethodLabels[it.BudgetMethod], sanbao,
			it.Unit, fen, yuan, strings.Join(it.Keywords, "、"), strconv.Itoa(it.SLADays), it.Description,
		}
		if err := cw.Write(export.Row(row)); err != nil {
			return fmt.Errorf("budgetlink: unable to write catalog csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("budgetlink: unable to write catalog csv: %w", err)
	}
	return nil
}
