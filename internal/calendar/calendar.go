// Package calendar is the one home of the product's calendar: the zone in
// which every date is counted (Beijing time: a case's filing year, a
// fiscal year's first day, a deadline's day, the times the front ends
// show) and the fiscal year of an instant. China keeps UTC+8 all year and
// its fiscal year is the calendar year, so both rules are short — but every
// package that counts a year must ask this one, or a case filed at 07:30 on
// 1 January UTC+8 lands in two different years on two screens.
package calendar

import (
	"fmt"
	"sync"
	"time"

	"minsheng"
)

// ZoneName is the IANA name of the product's zone.
const ZoneName = "Asia/Shanghai"

var (
	zoneOnce sync.Once
	zone     *time.Location
)

// Zone is ZoneName from the system's zone database, or a fixed UTC+8
// named CST where the database is missing (a distroless image): the two
// agree on every instant since 1991, when China last kept summer time.
func Zone() *time.Location {
	zoneOnce.Do(func() {
		var err error
		if zone, err = time.LoadLocation(ZoneName); err != nil {
			zone = time.FixedZone("CST", 8*3600)
		}
	})
	return zone
}

// Or is z, or Zone when z is nil: for services whose configuration may
// name another zone (tests do) and otherwise takes the product's.
func Or(z *time.Location) *time.Location {
	if z == nil {
		return Zone()
	}
	return z
}

// FiscalYear is the fiscal year t falls in, counted in z (nil: Zone). The
// fiscal year is the calendar year (《预算法》 第十八条).
func FiscalYear(t time.Time, z *time.Location) int {
	return t.In(Or(z)).Year()
}

// YearStart is the first instant of fiscal year y in z (nil: Zone).
func YearStart(y int, z *time.Location) time.Time {
	return time.Date(y, 1, 1, 0, 0, 0, 0, Or(z))
}

// YearRange is fiscal year y as the half-open range [from, to) in z.
func YearRange(y int, z *time.Location) (from, to time.Time) {
	return YearStart(y, z), YearStart(y+1, z)
}

// The fiscal years the product takes: a typo (226, 20266) is refused
// rather than stored as a year nobody will ever report on.
const (
	MinFiscalYear = 2000
	MaxFiscalYear = 2100
)

// ValidFiscalYear reports whether year is one the product takes.
func ValidFiscalYear(year int) bool { return year >= MinFiscalYear && year <= MaxFiscalYear }

// FiscalYearProblem is what a form shows beside a fiscal year it refuses.
var FiscalYearProblem = fmt.Sprintf("应为 %d 至 %d 之间的年份", MinFiscalYear, MaxFiscalYear)

// CheckFiscalYear refuses a year outside MinFiscalYear..MaxFiscalYear
// with EINVALID, naming the request's field (fiscal_year, year).
func CheckFiscalYear(field string, year int) error {
	if !ValidFiscalYear(year) {
		return minsheng.Invalid("财年无效", map[string]string{field: FiscalYearProblem})
	}
	return nil
}
