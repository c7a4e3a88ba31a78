package media

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"runtime"
	"testing"

	"minsheng"
)

func TestProcessAccepts(t *testing.T) {
	webpFixture, err := os.ReadFile("testdata/tiny-lossless.webp")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name             string
		data             []byte
		wantType         string
		wantW, wantH     int
		wantTW, wantTH   int // thumbnail size
		wantWhiteAt      *image.Point
		wantDisplayBelow int // Display long side must not exceed this
	}{
		{name: "jpeg", data: encodeTestJPEG(t, gradient(64, 48)), wantType: TypeJPEG, wantW: 64, wantH: 48, wantTW: 64, wantTH: 48},
		{name: "png with transparency", data: encodeTestPNG(t, transparentRight(64, 48)), wantType: TypePNG, wantW: 64, wantH: 48, wantTW: 64, wantTH: 48,
			wantWhiteAt: &image.Point{60, 10}},
		{name: "lossless webp", data: webpFixture, wantType: TypeWebP, wantW: 8, wantH: 6, wantTW: 8, wantTH: 6,
			wantWhiteAt: &image.Point{7, 3}},
		{name: "large jpeg is scaled down", data: encodeTestJPEG(t, gradient(3000, 1000)), wantType: TypeJPEG, wantW: 2560, wantH: 853, wantTW: 320, wantTH: 106},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Process(bytes.NewReader(tt.data), Limits{})
			if err != nil {
				t.Fatalf("Process: %v", err)
			}
			if got, want := p.SourceType, tt.wantType; got != want {
				t.Errorf("SourceType = %q, want %q", got, want)
			}
			if p.Width != tt.wantW || p.Height != tt.wantH {
				t.Errorf("size = %d×%d, want %d×%d", p.Width, p.Height, tt.wantW, tt.wantH)
			}
			sum := sha256.Sum256(tt.data)
			if got, want := p.SHA256, hex.EncodeToString(sum[:]); got != want {
				t.Errorf("SHA256 = %s, want %s", got, want)
			}
			if p.GPS != nil {
				t.Errorf("GPS = %+v, want nil", p.GPS)
			}
			display := decodeTestJPEG(t, "Display", p.Display)
			if b := display.Bounds(); b.Dx() != tt.wantW || b.Dy() != tt.wantH {
				t.Errorf("Display decodes as %d×%d, want %d×%d", b.Dx(), b.Dy(), tt.wantW, tt.wantH)
			}
			thumb := decodeTestJPEG(t, "Thumb", p.Thumb)
			if b := thumb.Bounds(); b.Dx() != tt.wantTW || b.Dy() != tt.wantTH {
				t.Errorf("Thumb decodes as %d×%d, want %d×%d", b.Dx(), b.Dy(), tt.wantTW, tt.wantTH)
			}
			if tt.wantWhiteAt != nil {
				// Transparent areas must come out white, not black.
				r, g, b, _ := display.At(tt.wantWhiteAt.X, tt.wantWhiteAt.Y).RGBA()
				if r>>8 < 230 || g>>8 < 230 || b>>8 < 230 {
					t.Errorf("transparent pixel at %v = (%d,%d,%d), want white", *tt.wantWhiteAt, r>>8, g>>8, b>>8)
				}
			}
		})
	}
}

func TestProcessThumbMax(t *testing.T) {
	p, err := Process(bytes.NewReader(encodeTestJPEG(t, gradient(400, 200))), Limits{ThumbMax: 100})
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	thumb := decodeTestJPEG(t, "Thumb", p.Thumb)
	if got, want := thumb.Bounds().Size(), image.Pt(100, 50); got != want {
		t.Errorf("Thumb size = %v, want %v", got, want)
	}
}

func TestProcessRefuses(t *testing.T) {
	webpFixture, err := os.ReadFile("testdata/tiny-lossless.webp")
	if err != nil {
		t.Fatal(err)
	}
	var gifBuf bytes.Buffer
	if err := gif.Encode(&gifBuf, gradient(8, 8), nil); err != nil {
		t.Fatal(err)
	}
	validJPEG := encodeTestJPEG(t, gradient(64, 64))
	tooBig := make([]byte, DefaultMaxBytes+1)
	copy(tooBig, validJPEG) // a JPEG start does not buy extra bytes

	tests := []struct {
		name     string // as the uploader named the file: names are not trusted
		data     []byte
		lim      Limits
		wantCode string
	}{
		{name: "text.jpg", data: []byte("这不是照片，只是一段文字。\n"), wantCode: minsheng.EUNSUPPORTED},
		{name: "page.jpg", data: []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"), wantCode: minsheng.EUNSUPPORTED},
		{name: "anim.jpg", data: gifBuf.Bytes(), wantCode: minsheng.EUNSUPPORTED},
		{name: "report.jpg", data: []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"), wantCode: minsheng.EUNSUPPORTED},
		{name: "riff-but-wav.jpg", data: []byte("RIFF\x24\x00\x00\x00WAVEfmt "), wantCode: minsheng.EUNSUPPORTED},
		{name: "empty.jpg", data: nil, wantCode: minsheng.EINVALID},
		{name: "10MB+1.jpg", data: tooBig, wantCode: minsheng.ETOOLARGE},
		{name: "over a small MaxBytes", data: validJPEG, lim: Limits{MaxBytes: int64(len(validJPEG)) - 1}, wantCode: minsheng.ETOOLARGE},
		{name: "truncated after header.jpg", data: validJPEG[:len(validJPEG)/2], wantCode: minsheng.EINVALID},
		{name: "truncated before frame header.jpg", data: validJPEG[:12], wantCode: minsheng.EINVALID},
		{name: "truncated.png", data: encodeTestPNG(t, gradient(64, 64))[:60], wantCode: minsheng.EINVALID},
		{name: "truncated.webp", data: webpFixture[:40], wantCode: minsheng.EINVALID},
		{name: "over MaxPixels", data: pngHeader(t, 7000, 7000), wantCode: minsheng.ETOOLARGE},
		{name: "side over 20000", data: pngHeader(t, 30000, 10), wantCode: minsheng.ETOOLARGE},
		{name: "over a small MaxPixels", data: validJPEG, lim: Limits{MaxPixels: 64*64 - 1}, wantCode: minsheng.ETOOLARGE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Process(bytes.NewReader(tt.data), tt.lim)
			if got, want := minsheng.ErrorCode(err), tt.wantCode; got != want {
				t.Fatalf("Process error code = %q (%v), want %q", got, err, want)
			}
			if p != nil {
				t.Errorf("Process returned a photo with an error")
			}
			if msg := minsheng.ErrorMessage(err); msg == "" || msg == minsheng.ErrorMessage(errors.New("internal")) {
				t.Errorf("message = %q, want a user-facing explanation", msg)
			}
		})
	}
}

func TestProcessMessages(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"too large", make([]byte, DefaultMaxBytes+1), "照片不能超过 10 MB"},
		{"unsupported", []byte("hello"), "只支持 JPEG、PNG、WebP 照片"},
		{"corrupt", encodeTestJPEG(t, gradient(32, 32))[:200], "照片已损坏，无法读取"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Process(bytes.NewReader(tt.data), Limits{})
			if got := minsheng.ErrorMessage(err); got != tt.want {
				t.Errorf("message = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestProcessBomb feeds a 70-byte PNG whose header declares 100000×100000
// pixels, 40 GB decoded: it must be refused from the header alone.
func TestProcessBomb(t *testing.T) {
	bomb := pngHeader(t, 100000, 100000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Process(bytes.NewReader(bomb), Limits{})
	runtime.ReadMemStats(&after)
	if got, want := minsheng.ErrorCode(err), minsheng.ETOOLARGE; got != want {
		t.Fatalf("error code = %q (%v), want %q", got, err, want)
	}
	if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(1<<20); got > limit {
		t.Errorf("allocated %d bytes refusing a bomb, want at most %d", got, limit)
	}
}

func TestProcessExif(t *testing.T) {
	const (
		make_ = "TestCam"
		model = "TC-GPS-MODEL-9"
	)
	tests := []struct {
		name    string
		bo      tiffOrder
		latRef  string
		lngRef  string
		lat     [3][2]uint32 // degrees, minutes, seconds as num/den
		lng     [3][2]uint32
		wantLat float64
		wantLng float64
	}{
		{
			name: "little endian, Beijing", bo: binary.LittleEndian, latRef: "N", lngRef: "E",
			lat: [3][2]uint32{{39, 1}, {54, 1}, {2736, 100}}, lng: [3][2]uint32{{116, 1}, {23, 1}, {504, 10}},
			wantLat: 39 + 54.0/60 + 27.36/3600, wantLng: 116 + 23.0/60 + 50.4/3600,
		},
		{
			name: "big endian, Beijing", bo: binary.BigEndian, latRef: "N", lngRef: "E",
			lat: [3][2]uint32{{39, 1}, {54, 1}, {2736, 100}}, lng: [3][2]uint32{{116, 1}, {23, 1}, {504, 10}},
			wantLat: 39 + 54.0/60 + 27.36/3600, wantLng: 116 + 23.0/60 + 50.4/3600,
		},
		{
			name: "big endian, south and west", bo: binary.BigEndian, latRef: "S", lngRef: "W",
			lat: [3][2]uint32{{3345, 100}, {0, 1}, {0, 1}}, lng: [3][2]uint32{{70, 1}, {3930, 100}, {0, 1}},
			wantLat: -33.45, wantLng: -(70 + 39.3/60),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tiff := buildTIFF(tt.bo, []tiffEntry{
				asciiEntry(0x010F, make_),
				asciiEntry(0x0110, model),
			}, []tiffEntry{
				asciiEntry(tagGPSLatRef, tt.latRef),
				rationalEntry(tagGPSLat, tt.lat),
				asciiEntry(tagGPSLngRef, tt.lngRef),
				rationalEntry(tagGPSLng, tt.lng),
			})
			src := withExif(encodeTestJPEG(t, gradient(64, 48)), tiff)

			p, err := Process(bytes.NewReader(src), Limits{})
			if err != nil {
				t.Fatalf("Process: %v", err)
			}
			if p.GPS == nil {
				t.Fatalf("GPS = nil, want %v,%v", tt.wantLat, tt.wantLng)
			}
			if math.Abs(p.GPS.Lat-tt.wantLat) > 1e-9 || math.Abs(p.GPS.Lng-tt.wantLng) > 1e-9 {
				t.Errorf("GPS = %v,%v, want %v,%v", p.GPS.Lat, p.GPS.Lng, tt.wantLat, tt.wantLng)
			}
			latBytes := tiffRationals(tt.bo, tt.lat)
			for name, out := range map[string][]byte{"Display": p.Display, "Thumb": p.Thumb} {
				if segs := jpegSegments(t, out); bytes.Contains(segs, []byte{0xE1}) {
					t.Errorf("%s has an APP1 segment (markers %x), want none", name, segs)
				}
				for _, leak := range [][]byte{[]byte("Exif"), []byte(make_), []byte(model), latBytes} {
					if bytes.Contains(out, leak) {
						t.Errorf("%s contains %q from the original's EXIF", name, leak)
					}
				}
			}
		})
	}
}

// TestProcessOrientation checks every EXIF orientation with a 40×20 image
// whose left half is red and right half blue.
func TestProcessOrientation(t *testing.T) {
	tests := []struct {
		orientation  int
		wantW, wantH int
		// Where the original's left (red) half ends up.
		redAt, blueAt image.Point
	}{
		{1, 40, 20, image.Pt(5, 10), image.Pt(35, 10)},
		{2, 40, 20, image.Pt(35, 10), image.Pt(5, 10)}, // mirrored
		{3, 40, 20, image.Pt(35, 10), image.Pt(5, 10)}, // upside down
		{4, 40, 20, image.Pt(5, 10), image.Pt(35, 10)}, // flipped vertically
		{5, 20, 40, image.Pt(10, 5), image.Pt(10, 35)}, // transposed
		{6, 20, 40, image.Pt(10, 5), image.Pt(10, 35)}, // rotated 90° clockwise: left goes to the top
		{7, 20, 40, image.Pt(10, 35), image.Pt(10, 5)},
		{8, 20, 40, image.Pt(10, 35), image.Pt(10, 5)}, // rotated 90° counter-clockwise
	}
	for _, tt := range tests {
		for _, bo := range []tiffOrder{binary.LittleEndian, binary.BigEndian} {
			t.Run(bo.String()+"/"+string(rune('0'+tt.orientation)), func(t *testing.T) {
				tiff := buildTIFF(bo, []tiffEntry{shortEntry(tagOrientation, uint16(tt.orientation))}, nil)
				src := withExif(encodeTestJPEG(t, halves(40, 20)), tiff)
				p, err := Process(bytes.NewReader(src), Limits{})
				if err != nil {
					t.Fatalf("Process: %v", err)
				}
				if p.Width != tt.wantW || p.Height != tt.wantH {
					t.Errorf("size = %d×%d, want %d×%d", p.Width, p.Height, tt.wantW, tt.wantH)
				}
				img := decodeTestJPEG(t, "Display", p.Display)
				if got := img.Bounds().Size(); got != image.Pt(tt.wantW, tt.wantH) {
					t.Fatalf("Display size = %v, want %v", got, image.Pt(tt.wantW, tt.wantH))
				}
				if !isReddish(img.At(tt.redAt.X, tt.redAt.Y)) {
					t.Errorf("pixel %v = %v, want red", tt.redAt, img.At(tt.redAt.X, tt.redAt.Y))
				}
				if isReddish(img.At(tt.blueAt.X, tt.blueAt.Y)) {
					t.Errorf("pixel %v = %v, want blue", tt.blueAt, img.At(tt.blueAt.X, tt.blueAt.Y))
				}
			})
		}
	}
}

// TestProcessBadExif checks that malformed EXIF costs the position, not the
// photo.
func TestProcessBadExif(t *testing.T) {
	gpsAt := func(lat [3][2]uint32) []tiffEntry {
		return []tiffEntry{
			asciiEntry(tagGPSLatRef, "N"), rationalEntry(tagGPSLat, lat),
			asciiEntry(tagGPSLngRef, "E"), rationalEntry(tagGPSLng, [3][2]uint32{{116, 1}, {0, 1}, {0, 1}}),
		}
	}
	good := buildTIFF(binary.LittleEndian, []tiffEntry{shortEntry(tagOrientation, 6)}, gpsAt([3][2]uint32{{39, 1}, {0, 1}, {0, 1}}))
	tests := []struct {
		name string
		tiff []byte
	}{
		{"not TIFF", []byte("garbage!garbage!")},
		{"IFD offset past the end", append(append([]byte{}, good[:4]...), 0xFF, 0xFF, 0xFF, 0x7F)},
		{"truncated", good[:30]},
		{"zero denominator", buildTIFF(binary.LittleEndian, nil, gpsAt([3][2]uint32{{39, 0}, {0, 1}, {0, 1}}))},
		{"latitude over 90", buildTIFF(binary.BigEndian, nil, gpsAt([3][2]uint32{{91, 1}, {0, 1}, {0, 1}}))},
		{"rationals past the end", good[:len(good)-8]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := withExif(encodeTestJPEG(t, gradient(40, 20)), tt.tiff)
			p, err := Process(bytes.NewReader(src), Limits{})
			if err != nil {
				t.Fatalf("Process: %v", err)
			}
			if p.GPS != nil {
				t.Errorf("GPS = %+v, want nil", p.GPS)
			}
		})
	}
}

// --- helpers ---

func gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	return img
}

func transparentRight(w, h int) *image.NRGBA {
	img := gradient(w, h)
	for y := range h {
		for x := w * 3 / 4; x < w; x++ {
			img.Set(x, y, color.NRGBA{0, 0, 0, 0})
		}
	}
	return img
}

func halves(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			if x < w/2 {
				img.Set(x, y, color.NRGBA{220, 20, 20, 255})
			} else {
				img.Set(x, y, color.NRGBA{20, 20, 220, 255})
			}
		}
	}
	return img
}

func isReddish(c color.Color) bool {
	r, _, b, _ := c.RGBA()
	return r > 2*b
}

func encodeTestJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeTestPNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func decodeTestJPEG(t *testing.T, name string, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is not a JPEG: %v", name, err)
	}
	return img
}

// pngHeader returns a 1×1 PNG whose IHDR is rewritten to declare w×h, with
// a valid CRC so the decoder believes it.
func pngHeader(t testing.TB, w, h uint32) []byte {
	t.Helper()
	b := encodeTestPNG(t, image.NewGray(image.Rect(0, 0, 1, 1)))
	// Signature (8) + length (4) + "IHDR" (4), then width and height.
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// withExif inserts an Exif APP1 segment holding tiff right after SOI.
func withExif(jpg, tiff []byte) []byte {
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

// jpegSegments lists the marker bytes of b's segments before the image data.
func jpegSegments(t *testing.T, b []byte) []byte {
	t.Helper()
	var markers []byte
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			t.Fatalf("no marker at offset %d", i)
		}
		m := b[i+1]
		markers = append(markers, m)
		if m == 0xDA {
			break
		}
		i += 2 + int(binary.BigEndian.Uint16(b[i+2:]))
	}
	return markers
}

type tiffEntry struct {
	tag, typ uint16
	count    uint32
	data     func(tiffOrder) []byte
}

func asciiEntry(tag uint16, s string) tiffEntry {
	return tiffEntry{tag: tag, typ: typeASCII, count: uint32(len(s) + 1),
		data: func(tiffOrder) []byte { return append([]byte(s), 0) }}
}

func shortEntry(tag uint16, v uint16) tiffEntry {
	return tiffEntry{tag: tag, typ: typeShort, count: 1,
		data: func(bo tiffOrder) []byte { return bo.AppendUint16(nil, v) }}
}

func rationalEntry(tag uint16, v [3][2]uint32) tiffEntry {
	return tiffEntry{tag: tag, typ: typeRational, count: 3,
		data: func(bo tiffOrder) []byte { return tiffRationals(bo, v) }}
}

func tiffRationals(bo tiffOrder, v [3][2]uint32) []byte {
	var b []byte
	for _, r := range v {
		b = bo.AppendUint32(b, r[0])
		b = bo.AppendUint32(b, r[1])
	}
	return b
}

// buildTIFF lays out a TIFF header, IFD0 (plus a GPS IFD pointer when gps
// is given), the GPS IFD, then the values too large to sit in an entry.
func buildTIFF(bo tiffOrder, ifd0, gps []tiffEntry) []byte {
	if gps != nil {
		ifd0 = append(ifd0, tiffEntry{tag: tagGPSIFD, typ: typeLong, count: 1}) // offset filled in below
	}
	ifdSize := func(n int) int { return 2 + 12*n + 4 }
	ifd0Off := 8
	gpsOff := ifd0Off + ifdSize(len(ifd0))
	dataOff := gpsOff
	if gps != nil {
		dataOff += ifdSize(len(gps))
	}
	var extra []byte
	writeIFD := func(b []byte, es []tiffEntry) []byte {
		b = bo.AppendUint16(b, uint16(len(es)))
		for _, e := range es {
			b = bo.AppendUint16(b, e.tag)
			b = bo.AppendUint16(b, e.typ)
			b = bo.AppendUint32(b, e.count)
			var d []byte
			if e.tag == tagGPSIFD {
				d = bo.AppendUint32(nil, uint32(gpsOff))
			} else {
				d = e.data(bo)
			}
			if len(d) <= 4 {
				b = append(b, append(d, make([]byte, 4-len(d))...)...)
			} else {
				b = bo.AppendUint32(b, uint32(dataOff+len(extra)))
				extra = append(extra, d...)
			}
		}
		return bo.AppendUint32(b, 0) // no next IFD
	}
	var b []byte
	if bo == binary.LittleEndian {
		b = append(b, "II*\x00"...)
	} else {
		b = append(b, "MM\x00*"...)
	}
	b = bo.AppendUint32(b, uint32(ifd0Off))
	b = writeIFD(b, ifd0)
	if gps != nil {
		b = writeIFD(b, gps)
	}
	return append(b, extra...)
}

// tiffOrder is binary.LittleEndian or binary.BigEndian.
type tiffOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}
