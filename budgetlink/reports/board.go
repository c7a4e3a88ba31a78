package reports

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"minsheng"
	"minsheng/budgetlink/ledger"
	"minsheng/cases"
	"minsheng/cases/rates"
	"minsheng/internal/calendar"
)

// BoardTTL is how long a public board is served from memory: the board is
// read by anyone without signing in, so it must cost one computation per
// sub-district and minute, whatever the traffic.
const BoardTTL = time.Minute

// Board is the public board of funded needs (民生实事公开) of one fiscal
// year, for one sub-district or (SubDistrict "") the whole district. It
// holds public cases only and nothing personal: no names, phones, exact
// addresses, GPS positions or staff.
type Board struct {
	FiscalYear      int              `json:"fiscal_year"`
	SubDistrict     string           `json:"sub_district"`
	SubDistrictName string           `json:"sub_district_name"`
	GeneratedAt     time.Time        `json:"generated_at"`
	Rates           BoardRates       `json:"rates"`
	Execution       BoardExecution   `json:"execution"`
	Lines           []BoardLine      `json:"lines"`
	Communities     []BoardCommunity `json:"communities"`
}

// BoardRates are the three rates 12345 judges units by, over the year's
// cases (all of them, public or not: counts reveal no one), counted by
// package rates — the same figures the console's reports and the factor
// allocation use — with the period and the definitions the board states.
type BoardRates struct {
	Response     rates.Rate         `json:"response"`
	Resolution   rates.Rate         `json:"resolution"`
	Satisfaction rates.Rate         `json:"satisfaction"`
	Period       rates.Period       `json:"period"`
	Definitions  []rates.Definition `json:"definitions"`
}

// BoardExecution sums the lines: 批复 / 调整 / 已支出.
type BoardExecution struct {
	ApprovedFen  int64 `json:"approved_fen"`
	AdjustedFen  int64 `json:"adjusted_fen"`
	CommittedFen int64 `json:"committed_fen"`
	SpentFen     int64 `json:"spent_fen"`
}

// BoardLine is one budget line's execution.
type BoardLine struct {
	SubDistrict  string `json:"sub_district"`
	ItemCode     string `json:"item_code"`
	ItemName     string `json:"item_name"`
	ProjectName  string `json:"project_name"`
	ApprovedFen  int64  `json:"approved_fen"`
	AdjustedFen  int64  `json:"adjusted_fen"`
	CommittedFen int64  `json:"committed_fen"`
	SpentFen     int64  `json:"spent_fen"`
}

// BoardCommunity lists the funded public needs of one community.
type BoardCommunity struct {
	Code  string      `json:"code"`
	Name  string      `json:"name"`
	Needs []BoardNeed `json:"needs"`
}

// BoardNeed is one funded public case: its public view, its catalog item
// and the money set aside and spent for it.
type BoardNeed struct {
	cases.PublicCase
	ItemCode    string `json:"item_code"`
	ItemName    string `json:"item_name"`
	ApprovedFen int64  `json:"approved_fen"`
	SpentFen    int64  `json:"spent_fen"`
	BudgetState string `json:"budget_state"`
}

type boardEntry struct {
	board *Board
	at    time.Time
}

// boardCache holds computed boards by year and sub-district.
type boardCache struct {
	mu      sync.Mutex
	entries map[string]boardEntry
	// computing serialises computations, so a burst of visitors after
	// expiry computes once.
	computing sync.Mutex
}

func (s *Reporter) boardCache() *boardCache { return &s.boards }

// PublicBoard returns the board of a fiscal year and sub-district ("" for
// the district), computed at most once per BoardTTL. Errors: EINVALID for
// an unknown sub-district or a year calendar.ValidFiscalYear refuses.
func (s *Reporter) PublicBoard(ctx context.Context, fiscalYear int, subDistrict string) (*Board, error) {
	if err := calendar.CheckFiscalYear("fiscal_year", fiscalYear); err != nil {
		return nil, err
	}
	name := ""
	if subDistrict != "" {
		sd, err := s.org.SubDistrict(subDistrict)
		if err != nil {
			return nil, minsheng.Invalid("街道不存在", map[string]string{"sub_district": "街道不存在"})
		}
		name = sd.Name
	}
	bc := s.boardCache()
	key := fmt.Sprintf("%d/%s", fiscalYear, subDistrict)
	get := func() *Board {
		bc.mu.Lock()
		defer bc.mu.Unlock()
		if e, ok := bc.entries[key]; ok && s.now().Sub(e.at) < BoardTTL {
			return e.board
		}
		return nil
	}
	if b := get(); b != nil {
		return b, nil
	}
	bc.computing.Lock()
	defer bc.computing.Unlock()
	if b := get(); b != nil {
		return b, nil
	}
	b, err := s.computeBoard(ctx, fiscalYear, subDistrict)
	if err != nil {
		return nil, err
	}
	b.SubDistrictName = name
	bc.mu.Lock()
	bc.entries[key] = boardEntry{board: b, at: s.now()}
	bc.mu.Unlock()
	return b, nil
}

func (s *Reporter) computeBoard(ctx context.Context, year int, subDistrict string) (*Board, error) {
	cs, err := s.ledger.Cases()
	if err != nil {
		return nil, err
	}
	b := &Board{FiscalYear: year, SubDistrict: subDistrict, GeneratedAt: s.now(), Lines: []BoardLine{}, Communities: []BoardCommunity{}}
	cat, _ := s.ledger.Catalog(year)
	itemName := func(code string) string {
		if cat != nil {
			if it, ok := cat.Item(code); ok {
				return it.Name
			}
		}
		return ""
	}

	var lines []*ledger.BudgetLine
	err = s.ledger.EachLineFigures(ctx, year, subDistrict, ledger.ByID, func(l *ledger.BudgetLine) error {
		lines = append(lines, l)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("budgetlink: unable to read lines for the board: %w", err)
	}
	for _, l := range lines {
		b.Lines = append(b.Lines, BoardLine{SubDistrict: l.SubDistrict, ItemCode: l.ItemCode, ItemName: l.ItemName,
			ProjectName: l.ProjectName, ApprovedFen: l.ApprovedFen, AdjustedFen: l.AdjustedFen,
			CommittedFen: l.CommittedFen, SpentFen: l.SpentFen})
		b.Execution.ApprovedFen += l.ApprovedFen
		b.Execution.AdjustedFen += l.AdjustedFen
		b.Execution.CommittedFen += l.CommittedFen
		b.Execution.SpentFen += l.SpentFen
	}

	byCommunity := map[string]*BoardCommunity{}
	from, to := calendar.YearRange(year, s.zone)
	tally := rates.NewTally(rates.NewPeriod(from, to, b.GeneratedAt))
	err = cs.EachCase(ctx, cases.Filter{SubDistrict: subDistrict, FiledFrom: from, FiledTo: to}, func(c *cases.Case) error {
		tally.Add(c)
		if !c.Public || c.Budget == nil || (c.Budget.State != ledger.StateReserved && c.Budget.State != ledger.StateSpent) {
			return nil
		}
		pv, err := cs.PublicView(ctx, c)
		if err != nil {
			return err
		}
		if c.Status != cases.StatusCompleted && c.Status != cases.StatusClosed {
			// After-photos only once the work is done.
			kept := pv.Photos[:0]
			for _, ph := range pv.Photos {
				if ph.Tag == cases.TagBefore {
					kept = append(kept, ph)
				}
			}
			pv.Photos = kept
		}
		bcm := byCommunity[c.Location.Community]
		if bcm == nil {
			bcm = &BoardCommunity{Code: c.Location.Community, Name: pv.CommunityName, Needs: []BoardNeed{}}
			byCommunity[c.Location.Community] = bcm
		}
		bcm.Needs = append(bcm.Needs, BoardNeed{PublicCase: *pv, ItemCode: c.Budget.ItemCode, ItemName: itemName(c.Budget.ItemCode),
			ApprovedFen: c.Budget.ReservedFen, SpentFen: c.Budget.SpentFen, BudgetState: c.Budget.State})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, c := range byCommunity {
		b.Communities = append(b.Communities, *c)
	}
	sort.Slice(b.Communities, func(i, j int) bool { return b.Communities[i].Code < b.Communities[j].Code })
	r := tally.Total().Rates()
	b.Rates = BoardRates{Response: r.Response, Resolution: r.Resolution, Satisfaction: r.Satisfaction,
		Period: tally.Period, Definitions: publicDefinitions()}
	return b, nil
}

// publicDefinitions are the definitions of the rates the board shows.
func publicDefinitions() []rates.Definition {
	var out []rates.Definition
	for _, d := range rates.Definitions() {
		if d.Key == "response" || d.Key == "resolution" || d.Key == "satisfaction" {
			out = append(out, d)
		}
	}
	return out
}
