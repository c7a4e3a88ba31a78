package demo

// The article's example of one matter booked two ways: residents of every
// sub-district ask for bulky waste (大件垃圾) to be cleared, and most
// sub-districts book it under its own item, 大件垃圾清运处置 (CG-01-02), but
// a few under 道路清扫保洁 (CG-01-01), the line their street cleaning is
// paid from. The 分类一致性 report is meant to find these.

// crossItem is the item the few book the matter under.
const crossItem = "CG-01-01"

// crossBooked are the sub-districts that do: three of fifteen, so the
// majority books the matter under the right item.
var crossBooked = map[string]bool{"xinjiekou": true, "niujie": true, "baizhifang": true}

// bulkyKinds are the kinds a sub-district's bulky-waste case may be: it
// is accepted and classified, and its work is done.
var bulkyKinds = map[kind]bool{kClosed: true, kLinkedClosed: true, kRunClosed: true, kCompleted: true}

// bulkyMatter gives one of sub's plans, not pinned yet, the bulky-waste
// request, unless one has it already, and returns it when sub books it
// under crossItem.
func (s *seeder) bulkyMatter(sub string, ps []*casePlan) *casePlan {
	for _, p := range ps {
		if p.tpl == tplBulky {
			return nil
		}
	}
	for _, p := range ps {
		if p.tpl == nil && bulkyKinds[p.kind] {
			p.tpl = tplBulky
			if crossBooked[sub] {
				return p
			}
			return nil
		}
	}
	return nil
}
