package cases

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"minsheng"
	"minsheng/internal/auth"
	"minsheng/internal/store"
)

// GetByNumber returns the case with a number such as XC2026-000123, the
// number staff read out on the phone and type into the console (merging
// duplicates, lookups). It is for staff and cadres; residents follow their
// cases by id or, when anonymous, by number and token (TrackByToken).
// Errors: EUNAUTHORIZED, EFORBIDDEN (role, scope), ENOTFOUND.
func (s *Service) GetByNumber(ctx context.Context, p auth.Principal, number string) (*Case, error) {
	if !p.Role.Valid() {
		return nil, minsheng.Errorf(minsheng.EUNAUTHORIZED, "请先登录")
	}
	if err := p.RequireRole(auth.RoleCadre, auth.RoleSubdistrict, auth.RoleFinance, auth.RoleAdmin); err != nil {
		return nil, err
	}
	number = strings.ToUpper(strings.TrimSpace(number))
	if number == "" || len(number) > 40 {
		return nil, minsheng.Errorf(minsheng.ENOTFOUND, "案件编号不存在")
	}
	var c Case
	if err := s.cases.FindOne(ctx, byNumber(number), &c); err != nil {
		if errors.Is(err, minsheng.ErrNotFound) {
			return nil, minsheng.Errorf(minsheng.ENOTFOUND, "案件 %s 不存在", number)
		}
		return nil, fmt.Errorf("cases: unable to find case %s: %w", number, err)
	}
	if !canView(p, &c) {
		return nil, minsheng.Errorf(minsheng.EFORBIDDEN, "无权查看此案件")
	}
	return s.view(ctx, p, &c)
}

// numberBlock is how many case numbers one counter increment reserves.
// Filing takes its number from the reserved block in memory instead of a
// guarded findAndModify each time. A process that stops leaves the rest
// of its block unused: a gap, never a duplicate (the counter only grows,
// and number carries a unique index), so several instances on MongoDB
// each draw from their own blocks.
const numberBlock = 16

// numbers hands out case numbers per counter from reserved blocks.
type numbers struct {
	mu     sync.Mutex
	blocks map[string]*reserved
	// later, on the embedded engine, marks every new block before its
	// first number is used (summary_later.go); nil elsewhere.
	later *laterSummaries
}

// reserved is the unused rest [next, end) of a counter's block, and the
// block's mark ("" when unmarked).
type reserved struct {
	next, end int64
	mark      string
}

// caseNumber is the case number seq of the counter of prefix (the number
// prefix and the year, "XC2026"): XC2026-000123.
func caseNumber(prefix string, seq int64) string { return fmt.Sprintf("%s-%06d", prefix, seq) }

// take returns the first of n consecutive values of prefix's counter,
// from its block when enough remain, else from a new block reserved with
// one increment (the old block's rest is skipped, so the n stay
// consecutive, as Import needs).
// holder, when not "", is the id of the case filed with the number: it
// holds the block's mark until its summary is written or the filing
// fails (laterSummaries.hold).
func (ns *numbers) take(ctx context.Context, st *store.Store, prefix string, n int64, holder string) (int64, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	b := ns.blocks[prefix]
	if b == nil || b.end-b.next < n {
		size := max(n, numberBlock)
		first, err := st.ReserveSequence(ctx, "case_number_"+prefix, size)
		if err != nil {
			return 0, err
		}
		previous := ""
		if b != nil {
			previous = b.mark
		}
		mark, err := ns.later.markBlock(ctx, prefix, first, size, previous)
		if err != nil {
			return 0, err // the block is skipped: a gap
		}
		if ns.blocks == nil {
			ns.blocks = map[string]*reserved{}
		}
		b = &reserved{next: first, end: first + size, mark: mark}
		ns.blocks[prefix] = b
	}
	first := b.next
	b.next += n
	ns.later.hold(b.mark, holder)
	return first, nil
}
