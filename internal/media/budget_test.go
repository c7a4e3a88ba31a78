package media

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"minsheng"
)

// hostilePNG writes a PNG of w×h pixels at the given bit depth and color
// type (6 = RGBA) whose rows are all zero: a few hundred KB on the wire,
// hundreds of MB once decoded. It streams, so the test itself stays small.
func hostilePNG(t *testing.T, w, h uint32, depth, colorType byte) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		var hdr [4]byte
		binary.BigEndian.PutUint32(hdr[:], uint32(len(data)))
		out.Write(hdr[:])
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		out.WriteString(typ)
		out.Write(data)
		binary.BigEndian.PutUint32(hdr[:], crc.Sum32())
		out.Write(hdr[:])
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = depth, colorType
	chunk("IHDR", ihdr)
	channels := map[byte]int{0: 1, 2: 3, 4: 2, 6: 4}[colorType]
	rowLen := 1 + int(w)*channels*int(depth)/8
	// Compressing hundreds of MB takes long under the race detector, so
	// one block of zero rows is deflated once and repeated: a flushed
	// deflate block that refers only to itself stays valid anywhere in the
	// stream. The zlib trailer is the Adler-32 of n zero bytes.
	const rowsPerBlock = 64
	var block bytes.Buffer
	fw, err := flate.NewWriter(&block, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(make([]byte, rowLen*rowsPerBlock)); err != nil {
		t.Fatal(err)
	}
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	var idat bytes.Buffer
	idat.Write([]byte{0x78, 0x01})
	for i := 0; i < int(h)/rowsPerBlock; i++ {
		idat.Write(block.Bytes())
	}
	tail, err := flate.NewWriter(&idat, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tail.Write(make([]byte, rowLen*(int(h)%rowsPerBlock))); err != nil {
		t.Fatal(err)
	}
	if err := tail.Close(); err != nil {
		t.Fatal(err)
	}
	n := uint64(rowLen) * uint64(h)
	var adler [4]byte
	binary.BigEndian.PutUint32(adler[:], uint32(n%65521)<<16|1)
	idat.Write(adler[:])
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// TestProcessHostilePNG is the sweep's upload: 6300×6300 pixels at 16 bits
// per channel took 30 s of both cores and about 800 MB. It must be refused
// from its header, in well under a second, with a message for the uploader.
func TestProcessHostilePNG(t *testing.T) {
	data := hostilePNG(t, 6300, 6300, 16, 6)
	if len(data) > 10<<20 {
		t.Fatalf("hostile PNG is %d bytes, want it under the upload limit", len(data))
	}
	t.Logf("hostile PNG: %d KB", len(data)>>10)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := Process(bytes.NewReader(data), Limits{})
		done <- err
	}()
	select {
	case err := <-done:
		if got, want := minsheng.ErrorCode(err), minsheng.ETOOLARGE; got != want {
			t.Fatalf("error code = %q (%v), want %q", got, err, want)
		}
		if msg := minsheng.ErrorMessage(err); !strings.Contains(msg, "照片") {
			t.Errorf("message = %q, want a Chinese explanation", msg)
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("Process still decoding after 2 s: the hostile PNG is not refused from its header")
	}
	if got := time.Since(start); got > 500*time.Millisecond {
		t.Errorf("refusal took %v, want under 500ms", got)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.TotalAlloc - before.TotalAlloc); grew > 64<<20 {
		t.Errorf("refusal allocated %d MB, want under 64 MB", grew>>20)
	}
}

func TestDecodeBudget(t *testing.T) {
	opaque := func(w, h int, deep bool) []byte {
		var img image.Image
		if deep {
			m := image.NewNRGBA64(image.Rect(0, 0, w, h))
			for i := range m.Pix {
				m.Pix[i] = 0xff
			}
			img = m
		} else {
			m := image.NewNRGBA(image.Rect(0, 0, w, h))
			for i := range m.Pix {
				m.Pix[i] = 0xff
			}
			img = m
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	tests := []struct {
		name     string
		data     []byte
		lim      Limits
		wantCode string
	}{
		// 100×100 RGBA: 40,000 bytes at 8 bits, 80,000 at 16.
		{name: "8-bit within budget", data: opaque(100, 100, false), lim: Limits{MaxDecodeBytes: 50_000}},
		{name: "16-bit counts double", data: opaque(100, 100, true), lim: Limits{MaxDecodeBytes: 50_000}, wantCode: minsheng.ETOOLARGE},
		{name: "16-bit within a larger budget", data: opaque(100, 100, true), lim: Limits{MaxDecodeBytes: 80_000}},
		{name: "24 MP 8-bit RGBA header within the default", data: pngHeaderDeep(t, 6000, 4000, 8, 6), wantCode: minsheng.EINVALID},
		{name: "24 MP 16-bit RGBA header over the default", data: pngHeaderDeep(t, 6000, 4000, 16, 6), wantCode: minsheng.ETOOLARGE},
		{name: "12 MP 16-bit gray within the default", data: pngHeaderDeep(t, 4000, 3000, 16, 0), wantCode: minsheng.EINVALID},
		{name: "over 24 MP", data: pngHeaderDeep(t, 6000, 4001, 8, 0), wantCode: minsheng.ETOOLARGE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Process(bytes.NewReader(tt.data), tt.lim)
			if got, want := minsheng.ErrorCode(err), tt.wantCode; got != want {
				t.Fatalf("error code = %q (%v), want %q", got, err, want)
			}
		})
	}
}

// pngHeaderDeep is a PNG whose IHDR declares w×h at depth and colorType but
// whose data is one short row: accepted by the header checks it reaches
// decoding and fails there as corrupt (EINVALID), refused before (ETOOLARGE).
func pngHeaderDeep(t *testing.T, w, h uint32, depth, colorType byte) []byte {
	t.Helper()
	b := hostilePNG(t, 1, 1, depth, colorType)
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestDecodeMemory(t *testing.T) {
	tests := []struct {
		name       string
		model      color.Model
		interlaced bool
		want       int64
	}{
		{"gray", color.GrayModel, false, 100},
		{"gray 16", color.Gray16Model, false, 200},
		{"paletted", color.Palette{color.Black, color.White}, false, 100},
		{"jpeg", color.YCbCrModel, false, 300},
		{"rgba", color.NRGBAModel, false, 400},
		{"rgba 16", color.NRGBA64Model, false, 800},
		{"rgba interlaced", color.NRGBAModel, true, 800},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecodeMemory(image.Config{ColorModel: tt.model, Width: 10, Height: 10}, tt.interlaced); got != tt.want {
				t.Errorf("DecodeMemory = %d, want %d", got, tt.want)
			}
		})
	}
}

// blockingReader holds a decode's slot: Process reads the whole upload
// inside the gate, so a reader that waits keeps the slot busy.
type blockingReader struct {
	started chan<- struct{}
	release <-chan struct{}
	data    *bytes.Reader
	once    sync.Once
}

func (r *blockingReader) Read(p []byte) (int, error) {
	r.once.Do(func() {
		r.started <- struct{}{}
		<-r.release
	})
	return r.data.Read(p)
}

// TestGateBoundsConcurrentDecodes sends 12 uploads at once through a gate
// of 2, over several rounds: exactly 2 run while the others wait, all
// succeed, and a caller whose context ends while waiting gets ERATELIMITED.
func TestGateBoundsConcurrentDecodes(t *testing.T) {
	photo := encodeTestJPEG(t, gradient(64, 48))
	g := NewGate(2)
	for round := range 5 {
		t.Run("round "+string(rune('1'+round)), func(t *testing.T) {
			started := make(chan struct{}, 12)
			release := make(chan struct{})
			var wg sync.WaitGroup
			errs := make(chan error, 12)
			for range 12 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := &blockingReader{started: started, release: release, data: bytes.NewReader(photo)}
					_, err := g.Process(context.Background(), r, Limits{})
					errs <- err
				}()
			}
			// Two decodes start; the third must not while they hold the slots.
			for range 2 {
				<-started
			}
			select {
			case <-started:
				t.Fatal("a third decode started while two were running")
			case <-time.After(100 * time.Millisecond):
			}
			close(release)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("Process: %v", err)
				}
			}
			if got, want := g.Peak(), 2; got != want {
				t.Errorf("peak concurrent decodes = %d, want %d", got, want)
			}
		})
	}
	t.Run("waiting ends with the context", func(t *testing.T) {
		g := NewGate(1)
		g.slots <- struct{}{} // a decode in progress
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := g.Process(ctx, bytes.NewReader(photo), Limits{})
		if got, want := minsheng.ErrorCode(err), minsheng.ERATELIMITED; got != want {
			t.Fatalf("error code = %q (%v), want %q", got, err, want)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("waited %v, want about 50ms", d)
		}
	})
	t.Run("waiting is bounded by MaxWait, with a retry time", func(t *testing.T) {
		g := NewGate(1)
		g.MaxWait = 50 * time.Millisecond
		g.slots <- struct{}{}
		_, err := g.Process(context.Background(), bytes.NewReader(photo), Limits{})
		if got, want := minsheng.ErrorCode(err), minsheng.ERATELIMITED; got != want {
			t.Fatalf("error code = %q (%v), want %q", got, err, want)
		}
		var busy *Busy
		if !errors.As(err, &busy) || busy.Wait != 5*time.Second || !strings.Contains(minsheng.ErrorMessage(err), "5 秒") {
			t.Errorf("err = %v, want a 5 s Busy cause stated in the message", err)
		}
	})
}
