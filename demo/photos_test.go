package demo

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"
)

// meanRGB is a picture's average colour, in 0–255 per channel.
func meanRGB(img image.Image) [3]float64 {
	var sum [3]float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			sum[0], sum[1], sum[2] = sum[0]+float64(r>>8), sum[1]+float64(g>>8), sum[2]+float64(bl>>8)
		}
	}
	n := float64((b.Dx() / 2) * (b.Dy() / 2))
	return [3]float64{sum[0] / n, sum[1] / n, sum[2] / n}
}

func diff(a, b image.Image) float64 {
	var d float64
	n := 0
	for y := 0; y < photoH; y += 3 {
		for x := 0; x < photoW; x += 3 {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			for _, p := range [][2]uint32{{r1, r2}, {g1, g2}, {b1, b2}} {
				v := float64(p[0]>>8) - float64(p[1]>>8)
				if v < 0 {
					v = -v
				}
				d += v
			}
			n += 3
		}
	}
	return d / float64(n)
}

func TestPhotos(t *testing.T) {
	decode := func(t *testing.T, b []byte) image.Image {
		t.Helper()
		if len(b) < 2 || b[0] != 0xff || b[1] != 0xd8 {
			t.Fatalf("not a JPEG: starts %x", b[:min(len(b), 4)])
		}
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if got := img.Bounds().Size(); got != (image.Point{photoW, photoH}) {
			t.Fatalf("size %v, want %dx%d", got, photoW, photoH)
		}
		return img
	}
	var befores []image.Image
	for sc := sceneCourtyard; sc <= sceneStairwell; sc++ {
		before := decode(t, drawPhoto(7, sc, false))
		after := decode(t, drawPhoto(7, sc, true))
		other := decode(t, drawPhoto(8, sc, false))
		again := decode(t, drawPhoto(7, sc, false))
		if d := diff(before, again); d > 0 {
			t.Errorf("scene %d: the same seed drew two pictures (%.1f apart)", sc, d)
		}
		if d := diff(before, after); d < 8 {
			t.Errorf("scene %d: before and after differ by %.1f, want a visible change", sc, d)
		}
		if d := diff(before, other); d < 4 {
			t.Errorf("scene %d: seeds 7 and 8 differ by %.1f, want another view", sc, d)
		}
		// After is put right: brighter, as fixed lamps, clean walls and
		// new paving are.
		mb, ma := meanRGB(before), meanRGB(after)
		if ma[0]+ma[1]+ma[2] <= mb[0]+mb[1]+mb[2] {
			t.Errorf("scene %d: after (%v) not brighter than before (%v)", sc, ma, mb)
		}
		for _, o := range befores {
			if d := diff(o, before); d < 10 {
				t.Errorf("scene %d looks like an earlier scene (%.1f apart)", sc, d)
			}
		}
		befores = append(befores, before)
	}
	for _, tc := range []struct {
		tpl  *template
		want scene
	}{{tplToilet, sceneToilet}, {tplParking, sceneHutong}, {tplElderly, sceneRoom}, {tplGround, sceneCourtyard}, {tplBulky, sceneHutong}, {tplElevator, sceneStairwell}} {
		if got := sceneOf(tc.tpl); got != tc.want {
			t.Errorf("%s: scene %d, want %d", tc.tpl.item, got, tc.want)
		}
	}
}
