package cases

// Office is the community office (社区居委会) residents may call about a
// case: its name and landline from the org directory. A case shows it
// instead of any person's number — the handling cadre is named, never
// given out by their own phone.
type Office struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
	// SubDistrictPhone is the sub-district office's landline (街道办事处),
	// the next number to call.
	SubDistrictPhone string `json:"sub_district_phone,omitempty"`
}

// officeOf is the office of the case's community, nil when the directory
// holds no phone for it.
func (s *Service) officeOf(c *Case) *Office {
	comm, err := s.dir.Community(c.Location.Community)
	if err != nil || comm.OfficePhone == "" {
		return nil
	}
	o := &Office{Name: comm.Name + "居委会", Phone: comm.OfficePhone}
	if sd, err := s.dir.SubDistrict(comm.SubDistrictCode); err == nil {
		o.SubDistrictPhone = sd.OfficePhone
	}
	return o
}
