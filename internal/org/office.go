package org

// Office is the office residents may call about a case in a community
// (社区居委会): its name and landline from the directory. A case shows it
// instead of any person's number — the handling cadre is named, never
// given out by their own phone.
type Office struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
	// SubDistrictPhone is the sub-district office's landline (街道办事处),
	// the next number to call.
	SubDistrictPhone string `json:"sub_district_phone,omitempty"`
}

// OfficeOf is the office of community, nil when the directory holds no
// phone for it.
func (d *Directory) OfficeOf(community string) *Office {
	comm, err := d.Community(community)
	if err != nil || comm.OfficePhone == "" {
		return nil
	}
	o := &Office{Name: comm.Name + "居委会", Phone: comm.OfficePhone}
	if sd, err := d.SubDistrict(comm.SubDistrictCode); err == nil {
		o.SubDistrictPhone = sd.OfficePhone
	}
	return o
}
