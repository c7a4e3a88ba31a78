package idem

// SetInsertHold runs f in the group insert's leader before it writes a
// batch of n records (f may block, so that inserts queue behind it).
func SetInsertHold(s *Store, f func(n int)) { s.inserts.BeforeWrite = f }

// InsertsQueued is how many record inserts wait for the next batch.
func InsertsQueued(s *Store) int { return s.inserts.Queued() }
