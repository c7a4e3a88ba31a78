// Package casestest makes the photos the cases tests upload: real JPEGs
// with an EXIF GPS position, PNG decompression bombs, non-images.
package casestest

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// Camera is the device name written into JPEGWithGPS's EXIF; a served
// photo must not contain it.
const Camera = "LeakyCam-GPS-9"

// JPEG returns a w×h JPEG without metadata.
func JPEG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{R: uint8(x * 255 / w), G: uint8(y * 255 / h), B: 128, A: 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// JPEGWithGPS returns a w×h JPEG whose EXIF records Camera as the device
// and 39°54'27"N 116°23'50"E (Beijing) as where it was taken; Lat and Lng
// are that position in decimal degrees.
func JPEGWithGPS(tb testing.TB, w, h int) []byte {
	tb.Helper()
	jpg := JPEG(tb, w, h)
	be := binary.BigEndian
	// TIFF: header, IFD0 (Make, GPS pointer) at 8, GPS IFD at 38, data at 92.
	const gpsOff, dataOff = 38, 92
	cam := append([]byte(Camera), 0)
	var t []byte
	t = append(t, "MM\x00*"...)
	t = be.AppendUint32(t, 8)
	entry := func(b []byte, tag, typ uint16, count, value uint32) []byte {
		b = be.AppendUint16(b, tag)
		b = be.AppendUint16(b, typ)
		b = be.AppendUint32(b, count)
		return be.AppendUint32(b, value)
	}
	inline := func(b []byte, tag uint16, s string) []byte { // ASCII of ≤ 3 chars
		b = be.AppendUint16(b, tag)
		b = be.AppendUint16(b, 2)
		b = be.AppendUint32(b, uint32(len(s)+1))
		v := append([]byte(s), make([]byte, 4-len(s))...)
		return append(b, v...)
	}
	t = be.AppendUint16(t, 2)
	t = entry(t, 0x010F, 2, uint32(len(cam)), dataOff)
	t = entry(t, 0x8825, 4, 1, gpsOff)
	t = be.AppendUint32(t, 0)
	latOff := uint32(dataOff + len(cam))
	t = be.AppendUint16(t, 4)
	t = inline(t, 1, "N")
	t = entry(t, 2, 5, 3, latOff)
	t = inline(t, 3, "E")
	t = entry(t, 4, 5, 3, latOff+24)
	t = be.AppendUint32(t, 0)
	if len(t) != dataOff {
		tb.Fatalf("casestest: TIFF layout off: %d", len(t))
	}
	t = append(t, cam...)
	for _, v := range []uint32{39, 1, 54, 1, 27, 1, 116, 1, 23, 1, 50, 1} {
		t = be.AppendUint32(t, v)
	}
	payload := append([]byte("Exif\x00\x00"), t...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	be.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

// Position JPEGWithGPS records.
const (
	Lat = 39 + 54.0/60 + 27.0/3600
	Lng = 116 + 23.0/60 + 50.0/3600
)

// PNGBomb returns a tiny PNG whose header declares w×h pixels.
func PNGBomb(tb testing.TB, w, h uint32) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		tb.Fatal(err)
	}
	out := b.Bytes()
	binary.BigEndian.PutUint32(out[16:], w)
	binary.BigEndian.PutUint32(out[20:], h)
	binary.BigEndian.PutUint32(out[29:], crc32.ChecksumIEEE(out[12:29]))
	return out
}
