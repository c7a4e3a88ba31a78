package allocation

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// InputsDigest is a fingerprint of everything a run decides from apart
// from the clock: each line's money and place, each need with every score
// input, and the weights, plus extra (demand the caller rolls into next
// year's request beside the run, as "case|item|fen" strings). It does not
// depend on the order of lines, needs or extra.
//
// A stored preview keeps it, so committing the preview later can tell
// whether anything the preview was decided from has moved since (a line's
// money adjusted or reserved, a case assessed, linked, closed, co-signed
// or newly filed, the weights changed): equal digests and the preview's
// own as-of time give the same decisions, because Run is deterministic.
func InputsDigest(lines []Line, needs []Need, w Weights, extra []string) string {
	h := sha256.New()
	var buf [8]byte
	num := func(v int64) {
		binary.BigEndian.PutUint64(buf[:], uint64(v))
		h.Write(buf[:])
	}
	str := func(s string) {
		num(int64(len(s)))
		h.Write([]byte(s))
	}
	// %#v prints every field by name, so a field added to Weights is
	// covered without touching this function.
	str(fmt.Sprintf("%#v", w))

	ls := slices.Clone(lines)
	slices.SortFunc(ls, func(a, b Line) int { return strings.Compare(a.ID, b.ID) })
	num(int64(len(ls)))
	for _, l := range ls {
		str(l.ID)
		str(l.SubDistrictCode)
		str(l.ItemCode)
		str(l.Area)
		num(l.AvailableFen)
		if l.Sanbao {
			num(1)
		} else {
			num(0)
		}
	}

	ns := slices.Clone(needs)
	slices.SortFunc(ns, func(a, b Need) int {
		return cmp.Or(strings.Compare(a.CaseID, b.CaseID), strings.Compare(a.LineID, b.LineID))
	})
	num(int64(len(ns)))
	for _, n := range ns {
		str(n.CaseID)
		str(n.LineID)
		num(n.EstimateFen)
		num(n.FiledAt.UnixNano())
		sanbao := int64(0)
		if n.Sanbao {
			sanbao = 1
		}
		for _, v := range []int64{sanbao, n.SafetyLevel, n.Households, n.CoSigners, n.Elderly, n.Disabled, n.RepeatComplaints} {
			num(v)
		}
	}

	ex := slices.Clone(extra)
	slices.Sort(ex)
	num(int64(len(ex)))
	for _, e := range ex {
		str(e)
	}
	return hex.EncodeToString(h.Sum(nil))
}
