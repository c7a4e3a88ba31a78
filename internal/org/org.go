// Package org is the administrative structure the platform works in:
// district (区) → sub-districts (街道) → communities (社区). It is pure and
// in memory; whoever persists or serves it copies the values out.
package org

import (
	"fmt"

	"minsheng"
)

// District is a district (区) with its sub-districts.
type District struct {
	Code         string        `json:"code"`
	Name         string        `json:"name"`
	SubDistricts []SubDistrict `json:"sub_districts"`
	// Boundary is the district's outline (WGS-84, a closed ring without the
	// repeated first point); Locate refuses positions outside it. Optional.
	Boundary []Point `json:"boundary,omitempty"`
}

// SubDistrict is a sub-district (街道): the unit that holds a budget and
// receives project money by area and population factors.
type SubDistrict struct {
	Code string `json:"code"`
	Name string `json:"name"`
	// AreaKM2Milli is the area under jurisdiction in 0.001 km², an integer so
	// allocation by area never touches floating point.
	AreaKM2Milli int64 `json:"area_km2_milli"`
	// Population is the resident population (常住人口).
	Population  int64       `json:"population"`
	Communities []Community `json:"communities"`
	// OfficePhone is the sub-district office's landline (街道办事处), shown
	// to residents; never a person's mobile.
	OfficePhone string `json:"office_phone,omitempty"`
	// Center is a reference point of the sub-district, nil when not held.
	Center *Point `json:"center,omitempty"`
	// Demo is set when at least one figure of this record is illustrative
	// rather than published; reports must not present it as fact.
	Demo bool `json:"demo"`
}

// Community is a community (社区), the level where cadres log and visit cases.
type Community struct {
	Code            string `json:"code"`
	Name            string `json:"name"`
	SubDistrictCode string `json:"sub_district_code"`
	// Population is 0 when no figure is held.
	Population int64 `json:"population"`
	// OfficePhone is the community office's landline (社区居委会), the
	// number residents are given for their case; never a cadre's mobile.
	OfficePhone string `json:"office_phone,omitempty"`
	// Center is the community's reference point: Locate picks the
	// community whose point is nearest. Nil when not held.
	Center *Point `json:"center,omitempty"`
	// Demo marks an invented community, present only to make lists realistic.
	Demo bool `json:"demo"`
}

// Directory answers questions about one district. It is immutable after
// construction and safe for concurrent use; every slice it returns is a copy.
type Directory struct {
	district    District
	subIndex    map[string]int       // sub-district code → index in district.SubDistricts
	communities map[string]Community // community code → community
}

// NewDirectory validates d and builds a Directory over a deep copy of it.
// Codes must be unique ASCII slugs (lower-case letters, digits, '-'), names
// non-empty, figures non-negative, and each community's SubDistrictCode must
// name its parent. Violations return an EINVALID error.
func NewDirectory(d District) (*Directory, error) {
	if err := checkSlug("区", d.Code); err != nil {
		return nil, err
	}
	if d.Name == "" {
		return nil, minsheng.Errorf(minsheng.EINVALID, "区 %s 缺少名称", d.Code)
	}
	dir := &Directory{
		district:    cloneDistrict(d),
		subIndex:    make(map[string]int, len(d.SubDistricts)),
		communities: make(map[string]Community),
	}
	for i := range dir.district.Boundary {
		if err := checkPoint("区", d.Code, &dir.district.Boundary[i]); err != nil {
			return nil, err
		}
	}
	for i, s := range dir.district.SubDistricts {
		if err := checkSlug("街道", s.Code); err != nil {
			return nil, err
		}
		if s.Name == "" {
			return nil, minsheng.Errorf(minsheng.EINVALID, "街道 %s 缺少名称", s.Code)
		}
		if s.AreaKM2Milli < 0 || s.Population < 0 {
			return nil, minsheng.Errorf(minsheng.EINVALID, "街道 %s 的面积或人口不能为负数", s.Code)
		}
		if err := checkOfficePhone("街道", s.Code, s.OfficePhone); err != nil {
			return nil, err
		}
		if err := checkPoint("街道", s.Code, s.Center); err != nil {
			return nil, err
		}
		if _, dup := dir.subIndex[s.Code]; dup {
			return nil, minsheng.Errorf(minsheng.EINVALID, "街道编码重复：%s", s.Code)
		}
		dir.subIndex[s.Code] = i
		for _, c := range s.Communities {
			if err := checkSlug("社区", c.Code); err != nil {
				return nil, err
			}
			if c.Name == "" {
				return nil, minsheng.Errorf(minsheng.EINVALID, "社区 %s 缺少名称", c.Code)
			}
			if c.Population < 0 {
				return nil, minsheng.Errorf(minsheng.EINVALID, "社区 %s 的人口不能为负数", c.Code)
			}
			if err := checkOfficePhone("社区", c.Code, c.OfficePhone); err != nil {
				return nil, err
			}
			if err := checkPoint("社区", c.Code, c.Center); err != nil {
				return nil, err
			}
			if c.SubDistrictCode != s.Code {
				return nil, minsheng.Errorf(minsheng.EINVALID,
					"社区 %s 所属街道编码 %q 与上级街道 %s 不一致", c.Code, c.SubDistrictCode, s.Code)
			}
			if _, dup := dir.communities[c.Code]; dup {
				return nil, minsheng.Errorf(minsheng.EINVALID, "社区编码重复：%s", c.Code)
			}
			dir.communities[c.Code] = c
		}
	}
	return dir, nil
}

// District returns a deep copy of the whole district.
func (d *Directory) District() District { return cloneDistrict(d.district) }

// SubDistrict returns the sub-district with the given code, communities
// included. An unknown code returns an error wrapping minsheng.ErrNotFound.
func (d *Directory) SubDistrict(code string) (SubDistrict, error) {
	i, ok := d.subIndex[code]
	if !ok {
		return SubDistrict{}, notFound("街道不存在：%s", code)
	}
	return cloneSubDistrict(d.district.SubDistricts[i]), nil
}

// Community returns the community with the given code. An unknown code
// returns an error wrapping minsheng.ErrNotFound.
func (d *Directory) Community(code string) (Community, error) {
	c, ok := d.communities[code]
	if !ok {
		return Community{}, notFound("社区不存在：%s", code)
	}
	return cloneCommunity(c), nil
}

// CommunitiesOf returns the communities of a sub-district in their listed
// order, or nil when the sub-district is unknown.
func (d *Directory) CommunitiesOf(subCode string) []Community {
	i, ok := d.subIndex[subCode]
	if !ok {
		return nil
	}
	return cloneSubDistrict(d.district.SubDistricts[i]).Communities
}

// Contains reports whether communityCode belongs to sub-district subCode;
// scope checks use it to confine a sub-district user to its own communities.
func (d *Directory) Contains(subCode, communityCode string) bool {
	c, ok := d.communities[communityCode]
	return ok && c.SubDistrictCode == subCode
}

// SubDistrictOf returns the code of the sub-district a community belongs to.
func (d *Directory) SubDistrictOf(communityCode string) (string, bool) {
	c, ok := d.communities[communityCode]
	if !ok {
		return "", false
	}
	return c.SubDistrictCode, true
}

func notFound(format string, args ...any) error {
	return &minsheng.Error{
		Code:    minsheng.ENOTFOUND,
		Message: fmt.Sprintf(format, args...),
		Err:     minsheng.ErrNotFound,
	}
}

// checkSlug keeps codes safe to put in URLs, file names and Mongo keys.
func checkSlug(level, code string) error {
	if code == "" {
		return minsheng.Errorf(minsheng.EINVALID, "%s编码不能为空", level)
	}
	for i := 0; i < len(code); i++ {
		b := code[i]
		if (b < 'a' || b > 'z') && (b < '0' || b > '9') && b != '-' {
			return minsheng.Errorf(minsheng.EINVALID, "%s编码 %q 只能包含小写字母、数字和连字符", level, code)
		}
	}
	return nil
}

func cloneDistrict(d District) District {
	out := d
	out.Boundary = append([]Point(nil), d.Boundary...)
	out.SubDistricts = make([]SubDistrict, len(d.SubDistricts))
	for i, s := range d.SubDistricts {
		out.SubDistricts[i] = cloneSubDistrict(s)
	}
	return out
}

func cloneSubDistrict(s SubDistrict) SubDistrict {
	out := s
	out.Center = clonePoint(s.Center)
	out.Communities = make([]Community, len(s.Communities))
	for i, c := range s.Communities {
		out.Communities[i] = cloneCommunity(c)
	}
	return out
}

func cloneCommunity(c Community) Community {
	c.Center = clonePoint(c.Center)
	return c
}

func clonePoint(p *Point) *Point {
	if p == nil {
		return nil
	}
	q := *p
	return &q
}
