package bench_test

// The soak: 16 staff clients of several sub-districts on the lists at once
// for a minute, counting errors and sampling the process's memory (server,
// embedded engine and clients share it) every second.
//
//	MINSHENG_BENCH_CASES=50000 go test -run '^$' -bench Soak -benchtime 1x -timeout 90m ./bench/
//	MINSHENG_SOAK_SECONDS=10 shortens it.

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"minsheng/internal/auth"
)

// memSample is one reading of the process's memory.
type memSample struct {
	heap, sys, rss uint64 // bytes
}

func readMem() memSample {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s := memSample{heap: m.HeapAlloc, sys: m.Sys}
	if f, err := os.Open("/proc/self/status"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
				kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				s.rss = kb << 10
			}
		}
		f.Close()
	}
	return s
}

func BenchmarkSoak(b *testing.B) {
	n := envInt("MINSHENG_BENCH_CASES", 10_000)
	for range b.N {
		p := seedPilot(b, n)
		// A server holds its report caches from the start (serve fills
		// them once listening), so the soak's memory includes them.
		warmReports(b, p)
		runSoak(b, p)
	}
}

// runSoak runs the soak on a seeded pilot (BenchmarkReports runs it after
// its table when MINSHENG_BENCH_SOAK=1, sparing a second seeding).
func runSoak(b *testing.B, p *pilot) {
	b.Helper()
	n := p.n
	secs := envInt("MINSHENG_SOAK_SECONDS", 60)
	const clients = 16
	{
		// 16 staff accounts over 4 sub-districts, 4 each.
		type client struct {
			token string
			sub   string
		}
		var cs []client
		for i := range clients {
			sub := p.subs[i%4]
			cs = append(cs, client{token: p.login(b, fmt.Sprintf("soak-%02d", i), auth.RoleSubdistrict, sub), sub: sub})
		}
		paths := []string{"/cases?status=submitted", "/cases", "/cases?overdue=true&sort=deadline", "/cases?text=" + "路灯", "/cases?status=accepted&area=CG"}
		hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 2 * clients}}
		get := func(path, token string) (int, []byte, error) {
			req, _ := http.NewRequest("GET", p.base+path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := hc.Do(req)
			if err != nil {
				return 0, nil, err
			}
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			return res.StatusCode, body, err
		}

		// What ran before in this process (the seeding, the raw driver's
		// reads, a check with its collector held off) is not a server's: a
		// server never runs check, its own command. Return the memory
		// they left free to the system, so that the peak is the soak's.
		debug.FreeOSMemory()
		before := readMem()
		var peak memSample
		stopSampling := make(chan struct{})
		sampled := make(chan struct{})
		go func() {
			defer close(sampled)
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-stopSampling:
					return
				case <-t.C:
					m := readMem()
					peak.heap, peak.sys, peak.rss = max(peak.heap, m.heap), max(peak.sys, m.sys), max(peak.rss, m.rss)
				}
			}
		}()

		var requests, errors atomic.Int64
		var mu sync.Mutex
		lat := map[string]timings{}
		var firstErr atomic.Value
		end := time.Now().Add(time.Duration(secs) * time.Second)
		var wg sync.WaitGroup
		for i, c := range cs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mine := map[string]timings{}
				for k := i; time.Now().Before(end); k++ {
					path := paths[k%len(paths)]
					start := time.Now()
					code, body, err := get(path, c.token)
					if err == nil && code == 200 && k%5 == 0 {
						// Every fifth list also asks for its second page.
						if next := nextCursor(body); next != "" {
							code, _, err = get(path+sep(path)+"cursor="+url.QueryEscape(next), c.token)
							path += " (page 2)"
						}
					}
					mine[path] = append(mine[path], time.Since(start))
					requests.Add(1)
					if err != nil || code != 200 {
						errors.Add(1)
						firstErr.CompareAndSwap(nil, fmt.Sprintf("%s: %d %v", path, code, err))
					}
				}
				mu.Lock()
				for k, v := range mine {
					lat[k] = append(lat[k], v...)
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		close(stopSampling)
		<-sampled
		runtime.GC()
		after := readMem()

		mb := func(v uint64) string { return fmt.Sprintf("%.0f MB", float64(v)/(1<<20)) }
		fmt.Printf("\nminsheng soak: %d staff clients over 4 sub-districts on the lists for %d s, %d cases\n", clients, secs, n)
		fmt.Printf("requests: %d, errors: %d", requests.Load(), errors.Load())
		if e := firstErr.Load(); e != nil {
			fmt.Printf(" (first: %s)", e)
		}
		fmt.Println()
		for _, path := range append(paths, func() []string {
			var out []string
			for _, p := range paths {
				out = append(out, p+" (page 2)")
			}
			return out
		}()...) {
			if t := lat[path]; len(t) > 0 {
				fmt.Printf("  %-40s n=%-5d p50 %6.1f ms  p95 %6.1f ms  max %6.1f ms\n", path, len(t),
					float64(t.pct(50).Microseconds())/1000, float64(t.pct(95).Microseconds())/1000, float64(t.pct(100).Microseconds())/1000)
			}
		}
		fmt.Printf("memory before: heap %s, Go sys %s, RSS %s\n", mb(before.heap), mb(before.sys), mb(before.rss))
		fmt.Printf("memory max during (sampled every second): heap %s, Go sys %s, RSS %s\n", mb(peak.heap), mb(peak.sys), mb(peak.rss))
		fmt.Printf("memory after (GC): heap %s, Go sys %s, RSS %s\n", mb(after.heap), mb(after.sys), mb(after.rss))
	}
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

// nextCursor reads next_cursor from a list's JSON without decoding it all.
func nextCursor(body []byte) string {
	const key = `"next_cursor":"`
	s := string(body)
	i := strings.Index(s, key)
	if i < 0 {
		return ""
	}
	s = s[i+len(key):]
	if j := strings.IndexByte(s, '"'); j >= 0 {
		return s[:j]
	}
	return ""
}
