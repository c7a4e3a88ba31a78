package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"minsheng"
	"minsheng/budgetlink/catalog"
	"minsheng/budgetlink/ledger"
	"minsheng/budgetlink/planning"
	"minsheng/cases"
	"minsheng/internal/auth"
	"minsheng/internal/org"
)

// kind is where a demo case ends up and how it gets there.
type kind int

const (
	kSubmittedFresh   kind = iota // filed in the last hours, not yet answered
	kSubmittedLate                // filed days ago, response overdue
	kRejected                     // 不予受理
	kMerged                       // a duplicate merged into a funded case
	kAccepted                     // accepted and classified
	kAssigned                     // dispatched to the community's cadre
	kAssessedWaiting              // assessed after the run: waits for the next one
	kRunWaitlisted                // assessed before the run, which had too little money
	kRunInProgress                // funded by the run, work started
	kRunCompleted                 // funded by the run, done, waiting for the verdict
	kRunClosed                    // funded by the run, done, rated
	kLinkedClosed                 // linked by staff, done, rated
	kLinkedInProgress             // linked by staff, work started
	kStalled                      // linked, started, past its deadline: the stalled funded case
	kClosed                       // done without budget money, rated
	kCompleted                    // done without budget money, waiting for the verdict
	kReopenClosed                 // rated dissatisfied, reworked, then satisfied
	kReopenOpen                   // rated dissatisfied, back in progress
	kCancelled                    // cancelled after dispatch
	kCancelledLinked              // cancelled after linking: the money is released
	numKinds
)

// baseCounts is the plan for one sub-district of 87 cases; other sizes scale it.
var baseCounts = [numKinds]int{
	kSubmittedFresh: 3, kSubmittedLate: 2, kRejected: 4, kMerged: 4, kAccepted: 4, kAssigned: 5,
	kAssessedWaiting: 6, kRunWaitlisted: 2, kRunInProgress: 6, kRunCompleted: 4, kRunClosed: 12,
	kLinkedClosed: 8, kLinkedInProgress: 2, kStalled: 1, kClosed: 15, kCompleted: 3,
	kReopenClosed: 2, kReopenOpen: 1, kCancelled: 2, kCancelledLinked: 1,
}

// finalStatus is the state a kind ends in.
var finalStatus = [numKinds]cases.Status{
	kSubmittedFresh: cases.StatusSubmitted, kSubmittedLate: cases.StatusSubmitted, kRejected: cases.StatusRejected,
	kMerged: cases.StatusMerged, kAccepted: cases.StatusAccepted, kAssigned: cases.StatusAssigned,
	kAssessedWaiting: cases.StatusAssessed, kRunWaitlisted: cases.StatusAssessed, kRunInProgress: cases.StatusInProgress,
	kRunCompleted: cases.StatusCompleted, kRunClosed: cases.StatusClosed, kLinkedClosed: cases.StatusClosed,
	kLinkedInProgress: cases.StatusInProgress, kStalled: cases.StatusInProgress, kClosed: cases.StatusClosed,
	kCompleted: cases.StatusCompleted, kReopenClosed: cases.StatusClosed, kReopenOpen: cases.StatusInProgress,
	kCancelled: cases.StatusCancelled, kCancelledLinked: cases.StatusCancelled,
}

func (k kind) byRun() bool {
	return k == kRunWaitlisted || k == kRunInProgress || k == kRunCompleted || k == kRunClosed
}

func (k kind) linked() bool {
	return k == kLinkedClosed || k == kLinkedInProgress || k == kStalled || k == kReopenClosed || k == kCancelledLinked
}

// needsMoney: kinds whose template must cost something and have a line.
func (k kind) needsMoney() bool { return k.byRun() || k.linked() }

// casePlan is one demo case: what is filed, by whom, and the steps it goes
// through. c is its live state while the seeder runs.
type casePlan struct {
	idx  int
	sub  string
	comm org.Community
	tpl  *template
	// item is the catalog item the case is booked under: its template's,
	// but for the few cross-item bookings (bulkyMatter).
	item      string
	prof      *profile
	title     string
	desc      string
	address   string
	kind      kind
	filer     *auth.Principal // nil: a cadre files it (no account) or anonymous
	anonymous bool
	contact   string
	phone     string
	estimate  int64 // fen
	actual    int64
	hh, risk  int
	elderly   int
	verdict   cases.Verdict
	// unresolved: the 回访 answers "问题未解决" though 基本满意.
	unresolved bool
	comment    string
	cosigners  []*auth.Principal
	kept       *casePlan // for kMerged
	late       bool
	filedAt    time.Time
	rng        *rand.Rand
	steps      []step
	c          *cases.Case
}

type step struct {
	at   time.Time
	name string
	do   func(ctx context.Context) error
}

// seeder builds one district.
type seeder struct {
	env  Env
	opts Options
	rng  *rand.Rand
	clk  *clock
	svc  services
	year int
	// start and end bound the demo's timelines; run is when each demo
	// sub-district's allocation run is committed.
	start, end, runAt time.Time

	admin     auth.Principal
	finance   auth.Principal
	staff     map[string]auth.Principal // sub-district → staff
	cadres    map[string]auth.Principal // community → cadre
	residents []auth.Principal
	resident  auth.Principal // the demo resident
	homes     map[string][]*auth.Principal
	// lines[sub][item] is the line cases of that item are linked to.
	lines map[string]map[string]*ledger.BudgetLine
	// exact lines are spent exactly as approved: no adjustment touches them.
	exact map[string]bool
	plans []*casePlan
	// profiles are the sub-districts' years (profile.go).
	profiles map[string]profile
	rep      *Report
	catalog  *catalog.Catalog
}

func newSeeder(env Env, opts Options) *seeder {
	s := newSeederForPlan(env, opts)
	s.svc = newServices(env, s.clk)
	return s
}

// newSeederForPlan is a seeder without services: enough to plan.
func newSeederForPlan(env Env, opts Options) *seeder {
	return &seeder{
		env: env, opts: opts,
		rng:      rand.New(rand.NewPCG(opts.Seed, 0x6d696e7368656e67)),
		clk:      &clock{},
		staff:    map[string]auth.Principal{},
		cadres:   map[string]auth.Principal{},
		homes:    map[string][]*auth.Principal{},
		lines:    map[string]map[string]*ledger.BudgetLine{},
		exact:    map[string]bool{},
		profiles: map[string]profile{},
		rep:      &Report{Seed: opts.Seed, ByStatus: map[string]int{}, ByArea: map[string]int{}},
	}
}

func (s *seeder) run(ctx context.Context) (*Report, error) {
	s.year, s.end = fiscalYear(s.opts.Now)
	s.end = s.end.UTC().Truncate(time.Minute)
	s.start = time.Date(s.year, 1, 4, 9, 0, 0, 0, zone)
	if s.end.Sub(s.start) < 90*24*time.Hour {
		s.start = s.end.Add(-90 * 24 * time.Hour)
	}
	s.runAt = s.start.Add(s.end.Sub(s.start) / 2).Truncate(time.Hour)
	s.rep.FiscalYear, s.rep.AsOf = s.year, s.end
	for _, sub := range s.opts.SubDistricts {
		if _, err := s.env.Org.SubDistrict(sub); err != nil {
			return nil, err
		}
	}
	s.clk.set(s.start.Add(-72 * time.Hour))
	if err := s.accounts(ctx); err != nil {
		return nil, fmt.Errorf("demo: accounts: %w", err)
	}
	s.plan()
	if err := s.cadreAccounts(ctx); err != nil {
		return nil, fmt.Errorf("demo: accounts: %w", err)
	}
	s.scheduleAll()
	if err := s.budget(ctx); err != nil {
		return nil, fmt.Errorf("demo: budget: %w", err)
	}
	if err := s.casework(ctx); err != nil {
		return nil, err
	}
	if err := s.execute(ctx); err != nil {
		return nil, fmt.Errorf("demo: monthly execution: %w", err)
	}
	s.clk.set(s.end)
	if err := s.laterReviews(ctx); err != nil {
		return nil, fmt.Errorf("demo: reviews: %w", err)
	}
	rep, err := s.svc.budget.Check(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: ledger check: %w", err)
	}
	if !rep.OK() {
		return nil, fmt.Errorf("demo: the ledger check after seeding is not clean: %d fixes, problems %v", len(rep.Fixes), rep.Problems)
	}
	return s.rep, s.count(ctx)
}

// accounts creates the staff, cadres and residents, all with the demo
// password (staff) or without one (residents sign in by SMS code).
func (s *seeder) accounts(ctx context.Context) error {
	add := func(in auth.NewUser, show bool) (auth.Principal, error) {
		u, err := s.env.Auth.CreateUser(ctx, in)
		if err != nil {
			return auth.Principal{}, fmt.Errorf("%s: %w", in.Username+in.Phone, err)
		}
		if show {
			a := Account{Username: u.Username, Phone: u.Phone, Secret: in.Password, Role: u.Role, Scope: in.Scope, Name: u.Name}
			if u.Role == auth.RoleResident {
				a.Secret = ResidentCode
			}
			s.rep.Accounts = append(s.rep.Accounts, a)
		}
		return u.Principal(), nil
	}
	admin, err := add(auth.NewUser{Username: "admin", Password: Password, Name: "系统管理员", Role: auth.RoleAdmin}, true)
	switch {
	case minsheng.ErrorCode(err) == minsheng.ECONFLICT:
		// serve created it before: it keeps its own password.
		s.rep.AdminExisted = true
		admin = auth.Principal{UserID: "demo-seed", Name: "系统管理员", Role: auth.RoleAdmin}
	case err != nil:
		return err
	}
	s.admin = admin
	if s.finance, err = add(auth.NewUser{Username: "finance", Password: Password, Name: "区财政局 " + s.personName(), Role: auth.RoleFinance}, true); err != nil {
		return err
	}
	for _, sub := range s.opts.SubDistricts {
		sd, _ := s.env.Org.SubDistrict(sub)
		p, err := add(auth.NewUser{Username: sub, Password: Password, Name: sd.Name + " " + s.personName(), Role: auth.RoleSubdistrict, Scope: sub}, true)
		if err != nil {
			return err
		}
		s.staff[sub] = p
	}
	if s.resident, err = add(auth.NewUser{Role: auth.RoleResident, Phone: ResidentPhone, Name: "演示居民"}, true); err != nil {
		return err
	}
	// Residents: about one per community of the demo sub-districts, each
	// living in one; the demo resident lives in 丰盛社区.
	var comms []org.Community
	for _, sub := range s.opts.SubDistricts {
		comms = append(comms, s.env.Org.CommunitiesOf(sub)...)
	}
	s.homes["jinrongjie-fengsheng"] = append(s.homes["jinrongjie-fengsheng"], &s.resident)
	n := len(comms) + len(comms)/2
	for i := range n {
		phone := fmt.Sprintf("1391000%04d", i+1)
		p, err := add(auth.NewUser{Role: auth.RoleResident, Phone: phone, Name: "居民" + phone[len(phone)-4:]}, false)
		if err != nil {
			return err
		}
		s.residents = append(s.residents, p)
	}
	for i := range s.residents {
		c := comms[i%len(comms)].Code
		s.homes[c] = append(s.homes[c], &s.residents[i])
	}
	s.rep.Residents = len(s.residents) + 1
	return nil
}

// cadreAccounts creates the community cadres: one in every community of
// the article's three sub-districts (DefaultSubDistricts[:3]) and in every
// other community that has a case. Passwords are hashed two at a time, the
// slow part of creating hundreds of accounts.
func (s *seeder) cadreAccounts(ctx context.Context) error {
	want := map[string]bool{}
	for _, p := range s.plans {
		want[p.comm.Code] = true
	}
	var ins []auth.NewUser
	for _, sub := range s.opts.SubDistricts {
		for _, c := range s.env.Org.CommunitiesOf(sub) {
			if want[c.Code] || slices.Contains(DefaultSubDistricts[:3], sub) {
				ins = append(ins, auth.NewUser{Username: cadreUsername(c.Code), Password: Password, Name: c.Name + " " + s.personName(), Role: auth.RoleCadre, Scope: c.Code})
			}
		}
	}
	users := make([]auth.User, len(ins))
	errs := make([]error, len(ins))
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := w; i < len(ins); i += 2 {
				users[i], errs[i] = s.env.Auth.CreateUser(ctx, ins[i])
			}
		})
	}
	wg.Wait()
	for i, in := range ins {
		if errs[i] != nil {
			return fmt.Errorf("%s: %w", in.Username, errs[i])
		}
		s.cadres[in.Scope] = users[i].Principal()
		if in.Scope == "jinrongjie-fengsheng" {
			s.rep.Accounts = append(s.rep.Accounts, Account{Username: in.Username, Secret: in.Password, Role: auth.RoleCadre, Scope: in.Scope, Name: users[i].Name})
		} else {
			s.rep.Cadres++
		}
	}
	return nil
}

// cadreUsername is a community's cadre's login: the community code, cut to
// the 32 characters a username may have.
func cadreUsername(code string) string { return code[:min(len(code), 32)] }

func (s *seeder) personName() string {
	return surnames[s.rng.IntN(len(surnames))] + givenNames[s.rng.IntN(len(givenNames))]
}

// plan draws every demo case: kind, template, place, people and amounts.
func (s *seeder) plan() {
	kinds := districtPlan(s.env.Org, s.opts)
	for _, sub := range s.opts.SubDistricts {
		sd, _ := s.env.Org.SubDistrict(sub)
		prof := profileOf(s.opts.Seed, sd)
		s.profiles[sub] = prof
		comms := s.env.Org.CommunitiesOf(sub)
		ks := kinds[sub]
		// Communities in turn, from a shuffled start, so a small
		// sub-district's cases are spread over its communities.
		order := s.rng.Perm(len(ks))
		first := s.rng.IntN(len(comms))
		var subPlans []*casePlan
		for i, oi := range order {
			p := &casePlan{idx: len(s.plans), sub: sub, comm: comms[(first+i*7)%len(comms)], kind: ks[oi], prof: &prof}
			p.rng = rand.New(rand.NewPCG(s.opts.Seed, uint64(p.idx)+1))
			s.plans = append(s.plans, p)
			subPlans = append(subPlans, p)
		}
		if sub == "jinrongjie" {
			s.articleExamples(subPlans)
		}
		misbooked := s.bulkyMatter(sub, subPlans)
		for _, p := range subPlans {
			s.fill(p)
		}
		if misbooked != nil {
			misbooked.item = crossItem
		}
		// Duplicates copy a funded case of their community (or any).
		var keepable []*casePlan
		for _, p := range subPlans {
			if p.kind.byRun() && p.kind != kRunWaitlisted {
				keepable = append(keepable, p)
			}
		}
		for _, p := range subPlans {
			if p.kind == kMerged {
				kept := keepable[p.rng.IntN(len(keepable))]
				p.kept, p.comm, p.tpl, p.address = kept, kept.comm, kept.tpl, kept.address
				p.title, p.desc = kept.title, "同样的问题："+kept.desc
				p.item = kept.item
			}
		}
	}
}

// scheduleAll builds every plan's steps, which act as the community's
// cadre (cadreAccounts), and puts the plans in filing order.
func (s *seeder) scheduleAll() {
	for _, p := range s.plans {
		s.schedule(p)
	}
	slices.SortStableFunc(s.plans, func(a, b *casePlan) int { return a.filedAt.Compare(b.filedAt) })
}

// articleExamples pins the article's cases to the first plans of 金融街:
// 丰盛社区10号院's dry toilet and ground, filed by the demo resident.
func (s *seeder) articleExamples(ps []*casePlan) {
	fengsheng, _ := s.env.Org.Community("jinrongjie-fengsheng")
	take := func(k kind) *casePlan {
		for _, p := range ps {
			if p.kind == k && p.tpl == nil {
				return p
			}
		}
		return nil
	}
	if p := take(kLinkedClosed); p != nil {
		p.comm, p.tpl, p.address, p.filer = fengsheng, tplToilet, "丰盛社区10号院", &s.resident
		p.title = "10号院旱厕改造"
		p.desc = "10号院是平房院落，旱厕设施破旧、卫生情况堪忧，粪便需要人工清掏，夏天气味很大，院里老人多，请求改造。"
		p.verdict, p.comment = cases.VerdictSatisfied, "现在院落环境有了很大的改变，地面整洁、厕所干净，没想到干部会协调帮助我们解决困扰多年的问题。"
	}
	if p := take(kLinkedClosed); p != nil {
		p.comm, p.tpl, p.address, p.filer = fengsheng, tplGround, "丰盛社区10号院", &s.resident
		p.title = "10号院地面坑洼不平，申请路面整理"
		p.verdict, p.comment = cases.VerdictSatisfied, "路面平整了，雨天不再积水。"
	}
	if p := take(kRunCompleted); p != nil {
		p.comm, p.tpl, p.filer = fengsheng, tplParking, &s.resident
		p.title = "胡同停车难，申请成立停车自管会"
	}
	if p := take(kRunInProgress); p != nil {
		p.comm, p.tpl = fengsheng, tplElderly
	}
	if p := take(kClosed); p != nil {
		p.comm, p.tpl, p.filer = fengsheng, tplBulky, &s.resident
		p.verdict = cases.VerdictBasicallySatisfied
	}
	if p := take(kSubmittedFresh); p != nil {
		p.comm, p.tpl, p.filer = fengsheng, tplDrain, &s.resident
	}
}

// fill draws what the plan did not pin. Every draw is from p.rng, in an
// order that keeps the demo district the same for a seed.
func (s *seeder) fill(p *casePlan) {
	r := p.rng
	s.fillTemplate(p)
	fillDetails(p)
	s.fillFiler(p)
	if p.verdict == "" {
		p.verdict = cases.VerdictSatisfied
		if r.Float64() < p.prof.basic {
			p.verdict = cases.VerdictBasicallySatisfied
			p.unresolved = r.Float64() < p.prof.unresolved
		}
	}
	if p.item == "" {
		p.item = p.tpl.item
	}
	if p.comment == "" {
		if p.verdict == cases.VerdictSatisfied {
			p.comment = satisfiedComments[r.IntN(len(satisfiedComments))]
		} else {
			p.comment = basicComments[r.IntN(len(basicComments))]
		}
	}
	p.late = r.Float64() < p.prof.late
	if p.kind != kRejected && p.kind != kMerged && p.kind != kSubmittedFresh && r.IntN(10) < 3 {
		for range 1 + r.IntN(4) {
			c := &s.residents[r.IntN(len(s.residents))]
			// Residents co-sign only what they may find: public cases
			// (another's 不公开 case is not found). The draw is made all
			// the same, so the rest of the district does not change.
			if p.public() && c != p.filer && !slices.Contains(p.cosigners, c) {
				p.cosigners = append(p.cosigners, c)
			}
		}
	}
}

// fillTemplate chooses p's template unless the plan pinned it.
func (s *seeder) fillTemplate(p *casePlan) {
	if p.kind == kStalled && p.tpl == nil {
		p.tpl = tplDrain // a 15-day item, so "past the deadline" shows soon
	}
	if p.kind == kRunWaitlisted && p.tpl == nil {
		p.tpl = tplElevator // more than the line holds: waitlisted
	}
	for p.tpl == nil {
		t := drawTemplate(p.rng, p.prof)
		if p.kind.needsMoney() && !t.costs() {
			continue
		}
		if t == tplElevator {
			continue
		}
		p.tpl = t
	}
}

// fillDetails draws p's place, and from its template the title, the
// estimate and actual cost, the households and the elderly among them.
func fillDetails(p *casePlan) {
	r := p.rng
	n := 1 + r.IntN(40)
	place := fmt.Sprintf("%d号院", n)
	if r.IntN(3) == 0 {
		place = fmt.Sprintf("%d号楼%d单元", n, 1+r.IntN(4))
	}
	if p.address == "" {
		p.address = p.comm.Name + place
	}
	if p.title == "" {
		t := p.tpl.titles[r.IntN(len(p.tpl.titles))]
		if strings.Contains(t, "%s") {
			t = fmt.Sprintf(t, place)
		}
		p.title = t
	}
	if p.desc == "" {
		p.desc = p.tpl.desc
	}
	if lo, hi := p.tpl.estYuan[0], p.tpl.estYuan[1]; hi > 0 {
		p.estimate = (lo + r.Int64N(hi-lo+1)) * 100
		p.estimate -= p.estimate % 10000 // whole hundreds of yuan
		p.estimate = max(p.estimate, 10000)
		p.actual = p.estimate * int64(88+r.IntN(15)) / 100
		p.actual -= p.actual % 100
	}
	p.hh = p.tpl.households[0] + r.IntN(p.tpl.households[1]-p.tpl.households[0]+1)
	p.risk = p.tpl.risk
	if p.tpl.elderly {
		p.elderly = 1 + r.IntN(max(p.hh/2, 1))
	}
}

// fillFiler draws who files p unless the plan pinned it: now and then
// nobody (anonymous), mostly a resident of the community with an
// account, otherwise a caller without one.
func (s *seeder) fillFiler(p *casePlan) {
	if p.filer != nil {
		return
	}
	r := p.rng
	switch home := s.homes[p.comm.Code]; {
	case r.IntN(20) == 0:
		p.anonymous = true
	case len(home) > 0 && r.IntN(3) > 0:
		p.filer = home[r.IntN(len(home))]
	default:
		p.contact = surnames[r.IntN(len(surnames))] + []string{"大爷", "阿姨", "女士", "先生"}[r.IntN(4)]
		p.phone = fmt.Sprintf("1381234%04d", r.IntN(10000))
	}
}

func drawTemplate(r *rand.Rand, prof *profile) *template {
	total := 0
	for _, w := range prof.areaPct {
		total += w.pct
	}
	n := r.IntN(total)
	for _, w := range prof.areaPct {
		if n < w.pct {
			ts := templates[w.area]
			return ts[r.IntN(len(ts))]
		}
		n -= w.pct
	}
	return templates["SQ"][0]
}

// budget creates the lines of all 15 sub-districts, reviews them before the
// year (事前), and books adjustments of each kind.
func (s *seeder) budget(ctx context.Context) error {
	demand := map[string]int64{} // sub|item → planned money
	groups := map[string][]*casePlan{}
	for _, p := range s.plans {
		if p.kind.needsMoney() {
			k := p.sub + "|" + p.item
			demand[k] += p.estimate
			groups[k] = append(groups[k], p)
		}
	}
	// A line whose cases all complete, approved at exactly their cost, is
	// executed exactly as approved (按照批复预算100%执行): some of those,
	// besides the adjusted ones, make the reform's report believable.
	exact := map[string]bool{}
	for k, ps := range groups {
		ok := len(ps) > 0 && !strings.HasSuffix(k, "|"+tplElevator.item)
		for _, p := range ps {
			ok = ok && (p.kind == kLinkedClosed || p.kind == kRunClosed || p.kind == kRunCompleted || p.kind == kReopenClosed)
		}
		if ok {
			exact[k] = true
			for _, p := range ps {
				p.actual = p.estimate
			}
		}
	}
	cat, err := s.svc.budget.Catalog(s.year)
	if err != nil {
		return err
	}
	s.clk.set(s.start.Add(-48 * time.Hour))
	for _, sd := range s.env.Org.District().SubDistricts {
		s.lines[sd.Code] = map[string]*ledger.BudgetLine{}
		var needed []string
		for k := range demand {
			if sub, item, _ := strings.Cut(k, "|"); sub == sd.Code {
				needed = append(needed, item)
			}
		}
		slices.Sort(needed)
		specs := lineSpecs(sd, needed)
		for _, sp := range specs {
			item, ok := cat.Item(sp.item)
			if !ok {
				return fmt.Errorf("catalog %d has no item %s", s.year, sp.item)
			}
			amount := sp.fen
			if d := demand[sd.Code+"|"+sp.item]; d > 0 && sp.item != tplElevator.item {
				amount = max(amount, d*3/2)
			}
			amount = roundFen(amount)
			if exact[sd.Code+"|"+sp.item] && sp.extra {
				amount = demand[sd.Code+"|"+sp.item]
			}
			l, err := s.svc.budget.CreateLine(ctx, s.finance, ledger.NewLine{
				FiscalYear: s.year, SubDistrict: sd.Code, ItemCode: sp.item,
				ProjectName: fmt.Sprintf("%d年%s%s", s.year, sd.Name, item.Name), ApprovedFen: amount,
			})
			if err != nil {
				return err
			}
			s.lines[sd.Code][sp.item] = l
			s.rep.Lines++
			if exact[sd.Code+"|"+sp.item] && sp.extra {
				s.exact[l.ID] = true
			}
			if item.BudgetMethod == catalog.CatalogCapacity || sp.item == tplToilet.item {
				if _, err := s.svc.budget.Review(ctx, s.finance, l.ID, "before",
					fmt.Sprintf("事前评审：%s 立项依据充分，测算标准符合%s，同意按 %s 批复。", item.Name, methodLabels[item.BudgetMethod], minsheng.Yuan(amount))); err != nil {
					return err
				}
				s.rep.Reviews++
			}
		}
	}
	return s.adjust(ctx)
}

// adjust books increases, decreases and transfers (调增、调减、调剂) on about
// 72% of the lines, so the adjustment report shows a split like the
// reform's (23% executed as approved, 72% adjusted in 2021).
func (s *seeder) adjust(ctx context.Context) error {
	r := rand.New(rand.NewPCG(s.opts.Seed, 0xad))
	at := s.start.Add(60 * 24 * time.Hour)
	for _, sd := range s.env.Org.District().SubDistricts {
		ls := s.lines[sd.Code]
		items := make([]string, 0, len(ls))
		for it, l := range ls {
			if !s.exact[l.ID] {
				items = append(items, it)
			}
		}
		slices.Sort(items)
		// 大件垃圾 money booked under road cleaning moves to its own item:
		// the article's example of one matter booked two ways.
		if from, to := ls["CG-01-01"], ls["CG-01-02"]; from != nil && to != nil && r.IntN(3) > 0 {
			if err := s.adjustOne(ctx, at, ledger.AdjustmentRequest{Kind: ledger.AdjustTransfer, LineID: from.ID, ToLineID: to.ID,
				AmountFen: roundFen(to.ApprovedFen / 5), Reason: "大件垃圾清运处置经费从道路清扫保洁项目调剂至标准分类事项"}); err != nil {
				return err
			}
		}
		for _, it := range items {
			l := ls[it]
			at = at.Add(time.Duration(r.IntN(72)) * time.Hour)
			switch n := r.IntN(100); {
			case n < 40:
				if err := s.adjustOne(ctx, at, ledger.AdjustmentRequest{Kind: ledger.AdjustIncrease, LineID: l.ID,
					AmountFen: roundFen(l.ApprovedFen * int64(5+r.IntN(16)) / 100), Reason: "年中追加：需求增加"}); err != nil {
					return err
				}
			case n < 60:
				if err := s.adjustOne(ctx, at, ledger.AdjustmentRequest{Kind: ledger.AdjustDecrease, LineID: l.ID,
					AmountFen: roundFen(l.ApprovedFen * int64(3+r.IntN(8)) / 100), Reason: "压减一般性支出，过紧日子"}); err != nil {
					return err
				}
			case n < 72:
				to := ls[items[r.IntN(len(items))]]
				if to.ID == l.ID {
					continue
				}
				if err := s.adjustOne(ctx, at, ledger.AdjustmentRequest{Kind: ledger.AdjustTransfer, LineID: l.ID, ToLineID: to.ID,
					AmountFen: roundFen(l.ApprovedFen * int64(2+r.IntN(6)) / 100), Reason: "项目间调剂，统筹使用"}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s *seeder) adjustOne(ctx context.Context, at time.Time, req ledger.AdjustmentRequest) error {
	if req.AmountFen <= 0 {
		return nil
	}
	s.clk.set(at)
	if _, err := s.svc.budget.Adjust(ctx, s.finance, req); err != nil {
		return err
	}
	s.rep.Adjustments++
	return nil
}

// laterReviews records 事中 reviews at mid-year and 事后 reviews of the lines
// whose cases are done, on the demo sub-districts' project lines.
func (s *seeder) laterReviews(ctx context.Context) error {
	for _, sub := range s.opts.SubDistricts {
		items := make([]string, 0)
		for it := range s.lines[sub] {
			items = append(items, it)
		}
		slices.Sort(items)
		for i, it := range items {
			l := s.lines[sub][it]
			if !strings.HasPrefix(it, "SQ-05") && !strings.HasPrefix(it, "CG-0") && !strings.HasPrefix(it, "MS-02") {
				continue
			}
			s.clk.set(s.runAt.Add(time.Duration(30*24+i) * time.Hour))
			if _, err := s.svc.budget.Review(ctx, s.staff[sub], l.ID, "during", "事中评审：执行进度与办结案件相符，资金使用符合规定。"); err != nil {
				return err
			}
			s.rep.Reviews++
			if i%3 == 0 {
				s.clk.set(s.end.Add(-time.Duration(5*24+i) * time.Hour))
				if _, err := s.svc.budget.Review(ctx, s.finance, l.ID, "after", "事后评审：已办结案件居民满意，绩效目标基本完成，结果纳入下年度可支配财力测算。"); err != nil {
					return err
				}
				s.rep.Reviews++
			}
		}
	}
	s.clk.set(s.end)
	return nil
}

func roundFen(f int64) int64 {
	if f < 100000 {
		return f - f%100
	}
	return f - f%100000 // whole thousands of yuan
}

// casework runs every case's steps in time order: first everything before
// the allocation runs, then the runs, then the rest, so each run sees the
// cases as they stood that day.
func (s *seeder) casework(ctx context.Context) error {
	exec := func(before bool) error {
		for _, p := range s.plans {
			for _, st := range p.steps {
				if st.at.Before(s.runAt) != before {
					continue
				}
				s.clk.set(st.at)
				if err := st.do(ctx); err != nil {
					return fmt.Errorf("demo: case %q (%s) %s: %w", p.title, p.comm.Code, st.name, err)
				}
			}
		}
		return nil
	}
	if err := exec(true); err != nil {
		return err
	}
	for i, sub := range s.opts.SubDistricts {
		s.clk.set(s.runAt.Add(time.Duration(i) * time.Hour))
		id := uuid.UUID{}
		for j := range id {
			id[j] = byte(s.rng.IntN(256))
		}
		id[6], id[8] = id[6]&0x0f|0x40, id[8]&0x3f|0x80
		rr, err := s.svc.planning.StartRun(ctx, s.staff[sub], planning.RunRequest{RunID: id.String(), FiscalYear: s.year, SubDistrict: sub})
		if err != nil {
			return fmt.Errorf("demo: allocation run of %s: %w", sub, err)
		}
		s.rep.Runs++
		s.rep.Funded += rr.FundedCases
	}
	return exec(false)
}

// count fills the report's counts from the store.
func (s *seeder) count(ctx context.Context) error {
	return s.svc.cases.EachCase(ctx, cases.Filter{}, func(c *cases.Case) error {
		s.rep.Cases++
		s.rep.ByStatus[string(c.Status)]++
		s.rep.ByArea[c.Area]++
		s.rep.Photos += len(c.Photos)
		return nil
	})
}

// ExpectedStatuses is how many cases of each state Seed makes with opts
// in dir: the plan's arithmetic, for tests and the README.
func ExpectedStatuses(dir *org.Directory, opts Options) map[cases.Status]int {
	out := map[cases.Status]int{}
	for _, ks := range districtPlan(dir, opts.withDefaults()) {
		for _, k := range ks {
			out[finalStatus[k]]++
		}
	}
	return out
}

// ExpectedCases is how many cases Seed makes with opts in each
// sub-district of dir.
func ExpectedCases(dir *org.Directory, opts Options) map[string]int {
	out := map[string]int{}
	for sub, ks := range districtPlan(dir, opts.withDefaults()) {
		out[sub] = len(ks)
	}
	return out
}

var methodLabels = map[string]string{catalog.CatalogActual: "按实际", catalog.CatalogQuota: "按定额", catalog.CatalogCapacity: "依财力"}

// public is the filer's 公开 choice: four in five residents choose it, so
// the public board has the article's examples and enough cases per
// community.
func (p *casePlan) public() bool { return p.idx%5 != 0 }
