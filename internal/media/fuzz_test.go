package media

import (
	"bytes"
	"encoding/binary"
	"image/jpeg"
	"os"
	"testing"

	"minsheng"
)

// FuzzProcess feeds arbitrary bytes to the upload pipeline (sniff, header
// checks, EXIF, decode, orientation, resize, re-encode). It must never
// panic; a refusal is one of the codes Process documents, never EINTERNAL
// (the reader cannot fail); an accepted photo is two JPEGs without any
// APP1 segment, of the size it reports.
func FuzzProcess(f *testing.F) {
	jpg := encodeTestJPEG(f, gradient(16, 12))
	gps := buildTIFF(binary.LittleEndian, []tiffEntry{asciiEntry(0x010F, "FuzzCam")}, []tiffEntry{
		asciiEntry(tagGPSLatRef, "N"), rationalEntry(tagGPSLat, [3][2]uint32{{39, 1}, {54, 1}, {2736, 100}}),
		asciiEntry(tagGPSLngRef, "E"), rationalEntry(tagGPSLng, [3][2]uint32{{116, 1}, {23, 1}, {0, 0}}),
	})
	f.Add(jpg)
	f.Add(withExif(jpg, gps))
	f.Add(withExif(jpg, buildTIFF(binary.BigEndian, []tiffEntry{shortEntry(tagOrientation, 6)}, nil)))
	f.Add(withExif(jpg, buildTIFF(binary.BigEndian, []tiffEntry{shortEntry(tagOrientation, 9)}, nil)))
	f.Add(withExif(jpg, []byte("MM\x00*\xff\xff\xff\xf0"))) // IFD offset past the end
	f.Add(jpg[:len(jpg)/2])                                 // truncated
	f.Add(encodeTestPNG(f, transparentRight(16, 12)))
	f.Add(pngHeader(f, 20001, 1))      // a side over the limit
	f.Add(pngHeader(f, 5000, 5000))    // over the fuzz pixel limit, from the header alone
	f.Add(pngHeader(f, 1, 1)[:40])     // IHDR and nothing after it
	f.Add([]byte("\x89PNG\r\n\x1a\n")) // the signature alone
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Add([]byte("GIF89a"))
	f.Add([]byte{})
	if webp, err := os.ReadFile("testdata/tiny-lossless.webp"); err == nil {
		f.Add(webp)
	}
	// Small limits keep one run cheap; the checks are the same at any size.
	lim := Limits{MaxBytes: 64 << 10, MaxPixels: 128 * 128, MaxDecodeBytes: 256 << 10, ThumbMax: 8}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Process(bytes.NewReader(data), lim)
		if err != nil {
			switch code := minsheng.ErrorCode(err); code {
			case minsheng.EINVALID, minsheng.ETOOLARGE, minsheng.EUNSUPPORTED:
			default:
				t.Fatalf("Process: code %q (%v), want invalid, too_large or unsupported", code, err)
			}
			return
		}
		if p.SourceType == "" || len(p.SHA256) != 64 {
			t.Errorf("SourceType %q, SHA256 %q", p.SourceType, p.SHA256)
		}
		for name, out := range map[string][]byte{"Display": p.Display, "Thumb": p.Thumb} {
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("%s is not a JPEG: %v", name, err)
			}
			if bytes.Contains(fuzzMarkers(out), []byte{0xE1}) {
				t.Errorf("%s carries an APP1 (EXIF) segment", name)
			}
			if name == "Display" && (cfg.Width != p.Width || cfg.Height != p.Height) {
				t.Errorf("Display is %d×%d, Photo says %d×%d", cfg.Width, cfg.Height, p.Width, p.Height)
			}
			if name == "Thumb" && max(cfg.Width, cfg.Height) > lim.ThumbMax {
				t.Errorf("Thumb is %d×%d, over %d", cfg.Width, cfg.Height, lim.ThumbMax)
			}
		}
		if p.Width*p.Height > lim.MaxPixels || max(p.Width, p.Height) > displayMax {
			t.Errorf("Display %d×%d is over the limits", p.Width, p.Height)
		}
	})
}

// fuzzMarkers lists the marker bytes of a JPEG's segments before the scan,
// stopping quietly at anything it does not understand.
func fuzzMarkers(b []byte) []byte {
	var markers []byte
	for i := 2; i+4 <= len(b) && b[i] == 0xFF; i += 2 + int(binary.BigEndian.Uint16(b[i+2:])) {
		markers = append(markers, b[i+1])
		if b[i+1] == 0xDA {
			break
		}
	}
	return markers
}
