//go:build !race

package store_test

// raceEnabled is true when the tests run with -race (see race_test.go).
const raceEnabled = false
