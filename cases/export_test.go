package cases

// SetMergeFault lets tests stop Merge between copying into the kept case
// and closing the duplicate, as a crash would.
func SetMergeFault(s *Service, f func() error) { s.faultAfterMergeCopy = f }
