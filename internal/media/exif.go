package media

import (
	"bytes"
	"encoding/binary"
	"math"
)

// A minimal EXIF reader: only the Orientation tag and the GPS position are
// needed, which does not justify a dependency. Every offset comes from the
// upload, so every read is bounds-checked and any inconsistency makes the
// reader give up rather than guess.

// exifData is what Process uses from a JPEG's EXIF.
type exifData struct {
	orientation int  // 1–8, 0 when absent
	gps         *GPS // nil when absent or malformed
}

const (
	tagOrientation = 0x0112
	tagGPSIFD      = 0x8825

	tagGPSLatRef = 0x0001
	tagGPSLat    = 0x0002
	tagGPSLngRef = 0x0003
	tagGPSLng    = 0x0004

	typeByte     = 1
	typeASCII    = 2
	typeShort    = 3
	typeLong     = 4
	typeRational = 5
)

// typeSize is the size in bytes of one value of each TIFF field type.
var typeSize = map[uint16]uint32{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}

// readJPEGExif finds the Exif APP1 segment of a JPEG and reads it.
func readJPEGExif(b []byte) (exifData, bool) {
	tiff := findExifSegment(b)
	if tiff == nil {
		return exifData{}, false
	}
	return parseTIFF(tiff)
}

// findExifSegment walks the JPEG markers up to the image data and returns
// the TIFF structure inside the first "Exif\0\0" APP1 segment.
func findExifSegment(b []byte) []byte {
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil
	}
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return nil
		}
		marker := b[i+1]
		switch {
		case marker == 0xFF:
			// Fill byte before a marker.
			i++
			continue
		case marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7):
			// Markers without a length field.
			i += 2
			continue
		case marker == 0xDA || marker == 0xD9:
			// Start of scan or end of image: metadata comes before these.
			return nil
		}
		n := int(binary.BigEndian.Uint16(b[i+2 : i+4])) // includes its own 2 bytes
		if n < 2 || i+2+n > len(b) {
			return nil
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return seg[6:]
		}
		i += 2 + n
	}
	return nil
}

type tiffReader struct {
	b  []byte
	bo binary.ByteOrder
}

type ifdEntry struct {
	tag, typ uint16
	count    uint32
	value    []byte // the 4-byte value-or-offset field
}

func parseTIFF(b []byte) (exifData, bool) {
	if len(b) < 8 {
		return exifData{}, false
	}
	t := tiffReader{b: b}
	switch string(b[:4]) {
	case "II*\x00":
		t.bo = binary.LittleEndian
	case "MM\x00*":
		t.bo = binary.BigEndian
	default:
		return exifData{}, false
	}
	ifd0, ok := t.ifd(t.bo.Uint32(b[4:8]))
	if !ok {
		return exifData{}, false
	}
	var x exifData
	for _, e := range ifd0 {
		switch e.tag {
		case tagOrientation:
			if v, ok := t.uint(e); ok && v >= 1 && v <= 8 {
				x.orientation = int(v)
			}
		case tagGPSIFD:
			if off, ok := t.uint(e); ok {
				x.gps = t.gps(off)
			}
		}
	}
	return x, true
}

// ifd reads the entries of the IFD at off.
func (t tiffReader) ifd(off uint32) ([]ifdEntry, bool) {
	if uint64(off)+2 > uint64(len(t.b)) {
		return nil, false
	}
	n := int(t.bo.Uint16(t.b[off:]))
	start := int(off) + 2
	if start+12*n > len(t.b) {
		return nil, false
	}
	es := make([]ifdEntry, n)
	for i := range es {
		p := t.b[start+12*i : start+12*i+12]
		es[i] = ifdEntry{tag: t.bo.Uint16(p[0:2]), typ: t.bo.Uint16(p[2:4]), count: t.bo.Uint32(p[4:8]), value: p[8:12]}
	}
	return es, true
}

// data returns the bytes of e's values: inline when they fit in 4 bytes,
// else at the offset the entry holds.
func (t tiffReader) data(e ifdEntry) ([]byte, bool) {
	size, ok := typeSize[e.typ]
	if !ok {
		return nil, false
	}
	total := uint64(size) * uint64(e.count)
	if total <= 4 {
		return e.value[:total], true
	}
	off := uint64(t.bo.Uint32(e.value))
	if off+total > uint64(len(t.b)) {
		return nil, false
	}
	return t.b[off : off+total], true
}

// uint reads the first value of a BYTE, SHORT or LONG entry.
func (t tiffReader) uint(e ifdEntry) (uint32, bool) {
	if e.count < 1 {
		return 0, false
	}
	switch e.typ {
	case typeByte:
		return uint32(e.value[0]), true
	case typeShort:
		return uint32(t.bo.Uint16(e.value)), true
	case typeLong:
		return t.bo.Uint32(e.value), true
	}
	return 0, false
}

// gps reads latitude and longitude from the GPS IFD at off.
func (t tiffReader) gps(off uint32) *GPS {
	es, ok := t.ifd(off)
	if !ok {
		return nil
	}
	var (
		lat, lng       float64
		hasLat, hasLng bool
		latRef, lngRef byte
	)
	for _, e := range es {
		switch e.tag {
		case tagGPSLatRef:
			latRef = t.ref(e)
		case tagGPSLngRef:
			lngRef = t.ref(e)
		case tagGPSLat:
			lat, hasLat = t.degrees(e)
		case tagGPSLng:
			lng, hasLng = t.degrees(e)
		}
	}
	if !hasLat || !hasLng {
		return nil
	}
	if latRef == 'S' {
		lat = -lat
	}
	if lngRef == 'W' {
		lng = -lng
	}
	if lat < -90 || lat > 90 || lng < -180 || lng > 180 {
		return nil
	}
	return &GPS{Lat: lat, Lng: lng}
}

// ref reads a one-letter ASCII reference ("N", "S", "E", "W").
func (t tiffReader) ref(e ifdEntry) byte {
	if e.typ != typeASCII {
		return 0
	}
	d, ok := t.data(e)
	if !ok || len(d) == 0 {
		return 0
	}
	return d[0]
}

// degrees reads three RATIONALs — degrees, minutes, seconds — as decimal
// degrees.
func (t tiffReader) degrees(e ifdEntry) (float64, bool) {
	if e.typ != typeRational || e.count != 3 {
		return 0, false
	}
	d, ok := t.data(e)
	if !ok {
		return 0, false
	}
	var v [3]float64
	for i := range v {
		num, den := t.bo.Uint32(d[8*i:]), t.bo.Uint32(d[8*i+4:])
		if den == 0 {
			return 0, false
		}
		v[i] = float64(num) / float64(den)
	}
	deg := v[0] + v[1]/60 + v[2]/3600
	if math.IsNaN(deg) || math.IsInf(deg, 0) {
		return 0, false
	}
	return deg, true
}
