package handlers

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"minsheng"
	"minsheng/cases"
	"minsheng/internal/export"
	"minsheng/internal/httpkit"
)

// ExportTimeout bounds one case export: longer than RequestTimeout, since a
// sub-district's whole history streams through it, but not endless.
const ExportTimeout = 10 * time.Minute

// caseExportHeader is the columns of a case export. The resident's name,
// phone and description are not in it (docs/SECURITY.md, Exports): the file
// leaves the system; the case number leads back to them for those allowed.
var caseExportHeader = []string{
	"编号", "标题", "状态", "领域", "街道", "社区", "地址", "户数", "附议数", "承办人",
	"估算（元）", "已预留（元）", "已支出（元）", "实际费用（元）", "评价",
	"登记时间", "受理时间", "办结时间", "当前时限", "时限", "超期",
}

// export streams the staff case list as CSV or XLSX: the list's filters
// (caseFilter, the one parsing of GET /cases), every page, the caller's
// scope. The checks run before the first byte, so a bad filter or scope
// is an ordinary error answer; the rows then stream by keyset pages
// (cases.Service.Export), never the whole list in memory.
func (a CasesAPI) export(c *fiber.Ctx) error {
	p, err := httpkit.Principal(c)
	if err != nil {
		return err
	}
	bad := httpkit.RouteQuery(c, append(caseQueryNames, "format")...)
	f := caseFilter(c, bad)
	format := strings.Clone(c.Query("format"))
	if format != "csv" && format != "xlsx" {
		bad["format"] = "应为 csv 或 xlsx"
	}
	if err := httpkit.BadQuery(bad); err != nil {
		return err
	}
	stream, err := a.Cases.Export(p, f)
	if err != nil {
		return err
	}
	rows := caseRows{zone: a.zone(), names: map[string]string{}, org: a.orgName}
	name := "诉求导出-" + time.Now().In(rows.zone).Format("20060102-1504") + "." + format
	c.Set(fiber.HeaderContentDisposition, attachment(name))
	c.Set(fiber.HeaderCacheControl, "no-store")
	if format == "csv" {
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	} else {
		c.Set(fiber.HeaderContentType, mimeXLSX)
	}
	// The body is written after this handler returns, when the request's
	// own context has ended: the export gets its own deadline, and stops
	// when the client goes (a write fails).
	ctx, logger := context.WithoutCancel(c.UserContext()), a.logger()
	stream = keepWriting(c.Context().Conn(), stream)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(ctx, ExportTimeout)
		defer cancel()
		var err error
		if format == "csv" {
			err = rows.csv(ctx, stream, w)
		} else {
			err = rows.xlsx(ctx, stream, w)
		}
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			logger.ErrorContext(ctx, "case export stopped", "format", format, "err", err)
		}
	})
	return nil
}

// exportWriteIdle is how long an export's client may take to accept more
// of the file before the connection is dropped.
const exportWriteIdle = 60 * time.Second

// keepWriting moves the connection's write deadline on while the export
// produces rows: the server's WriteTimeout bounds a whole answer, which
// would cut a long export short however fast its client reads.
func keepWriting(conn net.Conn, stream func(context.Context, func(*cases.Case) error) error) func(context.Context, func(*cases.Case) error) error {
	return func(ctx context.Context, fn func(*cases.Case) error) error {
		var last time.Time
		return stream(ctx, func(c *cases.Case) error {
			if now := time.Now(); now.Sub(last) > time.Second {
				_ = conn.SetWriteDeadline(now.Add(exportWriteIdle))
				last = now
			}
			return fn(c)
		})
	}
}

// caseRows turns exported cases into rows: names for codes, amounts in
// yuan from fen, times in the product's zone.
type caseRows struct {
	zone  *time.Location
	names map[string]string // org names by code, looked up once
	org   func(code string, sub bool) string
}

func (r caseRows) name(code string, sub bool) string {
	if code == "" {
		return ""
	}
	n, ok := r.names[code]
	if !ok {
		n = r.org(code, sub)
		r.names[code] = n
	}
	return n
}

// exportValue is one cell: a string, an int, a fen amount (yuan with two
// decimals), a time, or nil for an empty cell.
type fenValue int64

func (r caseRows) values(c *cases.Case) []any {
	var estimate, reserved, spent any
	if c.Assessment != nil {
		estimate = fenValue(c.Assessment.EstimateFen)
	}
	if c.Budget != nil {
		reserved, spent = fenValue(c.Budget.ReservedFen), fenValue(c.Budget.SpentFen)
	}
	var due any
	text, overdue := "", "否"
	if c.Deadline != nil {
		due, text = c.Deadline.DueAt, c.Deadline.Text
		if c.Deadline.Overdue {
			overdue = "是"
		}
	}
	return []any{
		c.Number, c.Title, c.StatusLabel, c.AreaLabel,
		r.name(c.Location.SubDistrict, true), r.name(c.Location.Community, false), c.Location.Address,
		c.Households, c.CosignCount, c.AssignedName,
		estimate, reserved, spent, fenValue(c.ActualCostFen), c.VerdictLabel,
		c.FiledAt, timeOrNil(c.AcceptedAt), timeOrNil(c.CompletedAt), due, text, overdue,
	}
}

func timeOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

// csv writes UTF-8 with a BOM (Excel and WPS then read the Chinese), every
// text cell through export.Cell (formula-safe), numbers plain.
func (r caseRows) csv(ctx context.Context, stream func(context.Context, func(*cases.Case) error) error, w io.Writer) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // RFC 4180
	if err := cw.Write(caseExportHeader); err != nil {
		return err
	}
	rec := make([]string, len(caseExportHeader))
	err := stream(ctx, func(c *cases.Case) error {
		for i, v := range r.values(c) {
			switch v := v.(type) {
			case nil:
				rec[i] = ""
			case string:
				rec[i] = export.Cell(v)
			case int:
				rec[i] = strconv.Itoa(v)
			case fenValue:
				rec[i] = minsheng.YuanDecimal(int64(v))
			case time.Time:
				rec[i] = v.In(r.zone).Format("2006-01-02 15:04")
			default:
				rec[i] = export.Cell(fmt.Sprint(v))
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
		return cw.Error()
	})
	cw.Flush()
	if err != nil {
		return err
	}
	return cw.Error()
}

// xlsx writes one sheet through excelize's stream writer (rows spill to a
// temporary file past its chunk size, so memory stays bounded): text as
// inline strings (never a formula), amounts as numbers shown 1,234.50,
// counts as integers, times as dates in the product's zone.
func (r caseRows) xlsx(ctx context.Context, stream func(context.Context, func(*cases.Case) error) error, w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "诉求"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	yuanFmt, dateFmt := "#,##0.00", "yyyy-mm-dd hh:mm"
	yuan, err := f.NewStyle(&excelize.Style{CustomNumFmt: &yuanFmt})
	if err != nil {
		return err
	}
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	head := make([]any, len(caseExportHeader))
	for i, h := range caseExportHeader {
		head[i] = h
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	row := 1
	cells := make([]any, len(caseExportHeader))
	err = stream(ctx, func(c *cases.Case) error {
		row++
		for i, v := range r.values(c) {
			switch v := v.(type) {
			case fenValue:
				cells[i] = yuanCell(int64(v), yuan)
			case time.Time:
				// excelize stores a time's wall clock: the zone's.
				cells[i] = excelize.Cell{StyleID: date, Value: v.In(r.zone)}
			default:
				cells[i] = v
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, row)
		return sw.SetRow(cell, cells)
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

// yuanCell is fen as a numeric yuan cell: the double nearest the exact
// two-decimal amount (minsheng.YuanDecimal), which a spreadsheet sums.
func yuanCell(fen int64, style int) excelize.Cell {
	v, _ := strconv.ParseFloat(minsheng.YuanDecimal(fen), 64)
	return excelize.Cell{StyleID: style, Value: v}
}
