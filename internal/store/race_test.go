//go:build race

package store_test

// raceEnabled is true when the tests run with -race, where the engine in
// this process runs several times slower: the differential test then asks
// fewer kinds of operation per query (every query still runs).
const raceEnabled = true
