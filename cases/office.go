package cases

import "minsheng/internal/org"

// Office is the community office (社区居委会) residents may call about a
// case (org.Office): a case shows it instead of any person's number.
type Office = org.Office

// officeOf is the office of the case's community, nil when the directory
// holds no phone for it.
func (s *Service) officeOf(c *Case) *Office { return s.dir.OfficeOf(c.Location.Community) }
