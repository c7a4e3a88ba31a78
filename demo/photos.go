package demo

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math/rand/v2"
)

// Photo sizes: small, so the demo stays light, but above the thumbnail size
// so the real pipeline has something to shrink.
const (
	photoW = 480
	photoH = 360
)

// areaColors tints a case's photos by area, so the demo's pictures tell
// the six areas apart at a glance.
var areaColors = map[string]color.RGBA{
	"ZH": {0x8d, 0x99, 0xae, 0xff},
	"DQ": {0xc6, 0x28, 0x28, 0xff},
	"MS": {0xef, 0x8a, 0x3c, 0xff},
	"SQ": {0x9e, 0x86, 0x6b, 0xff},
	"CG": {0x6a, 0x8f, 0x5a, 0xff},
	"PA": {0x3f, 0x6e, 0xa8, 0xff},
}

// drawPhoto draws a generated photo of a case: "before" is a courtyard
// wall with cracks and stains, "after" the same wall clean with a tick.
// The picture depends only on the area, the variant and r, so a seed
// draws the same photos every time. It returns PNG bytes.
func drawPhoto(r *rand.Rand, area string, after bool) []byte {
	img := image.NewRGBA(image.Rect(0, 0, photoW, photoH))
	base, ok := areaColors[area]
	if !ok {
		base = color.RGBA{0x90, 0x90, 0x90, 0xff}
	}
	sky := color.RGBA{0xcf, 0xe3, 0xf2, 0xff}
	if !after {
		sky = color.RGBA{0xb8, 0xbd, 0xc2, 0xff}
	}
	draw.Draw(img, image.Rect(0, 0, photoW, photoH/3), &image.Uniform{sky}, image.Point{}, draw.Src)
	wall := base
	if !after {
		wall = shade(base, 0.75)
	}
	draw.Draw(img, image.Rect(0, photoH/3, photoW, photoH*5/6), &image.Uniform{wall}, image.Point{}, draw.Src)
	ground := color.RGBA{0x7a, 0x74, 0x6c, 0xff}
	if after {
		ground = color.RGBA{0xa9, 0xa6, 0xa0, 0xff}
	}
	draw.Draw(img, image.Rect(0, photoH*5/6, photoW, photoH), &image.Uniform{ground}, image.Point{}, draw.Src)
	// Bricks: the courtyards (院落) of the old city.
	mortar := shade(wall, 0.85)
	for y := photoH / 3; y < photoH*5/6; y += 18 {
		hline(img, 0, photoW, y, mortar)
		off := 0
		if (y/18)%2 == 1 {
			off = 20
		}
		for x := off; x < photoW; x += 40 {
			vline(img, x, y, min(y+18, photoH*5/6), mortar)
		}
	}
	// A door, somewhere along the wall.
	dx := 60 + r.IntN(photoW-180)
	draw.Draw(img, image.Rect(dx, photoH/2, dx+60, photoH*5/6), &image.Uniform{color.RGBA{0x8b, 0x1a, 0x1a, 0xff}}, image.Point{}, draw.Src)
	if !after {
		// Stains and cracks.
		for range 6 + r.IntN(6) {
			cx, cy, rad := r.IntN(photoW), photoH/3+r.IntN(photoH/2), 8+r.IntN(24)
			disc(img, cx, cy, rad, color.RGBA{0x4a, 0x40, 0x36, 0xff})
		}
		for range 3 + r.IntN(3) {
			x, y := r.IntN(photoW), photoH/3+r.IntN(photoH/3)
			for range 40 + r.IntN(60) {
				img.Set(x, y, color.RGBA{0x20, 0x20, 0x20, 0xff})
				img.Set(x+1, y, color.RGBA{0x20, 0x20, 0x20, 0xff})
				x += r.IntN(3) - 1
				y++
			}
		}
		// Puddles on uneven ground (地面坑洼).
		for range 2 + r.IntN(3) {
			disc(img, r.IntN(photoW), photoH*5/6+10+r.IntN(40), 10+r.IntN(18), color.RGBA{0x55, 0x5f, 0x66, 0xff})
		}
	} else {
		// A green tick: done (已办结).
		tx, ty := photoW-110, 40
		for i := range 30 {
			disc(img, tx+i, ty+30+i, 5, color.RGBA{0x2e, 0x9d, 0x4f, 0xff})
		}
		for i := range 60 {
			disc(img, tx+30+i, ty+60-i, 5, color.RGBA{0x2e, 0x9d, 0x4f, 0xff})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // writing to memory cannot fail
	return buf.Bytes()
}

func shade(c color.RGBA, f float64) color.RGBA {
	return color.RGBA{uint8(float64(c.R) * f), uint8(float64(c.G) * f), uint8(float64(c.B) * f), c.A}
}

func hline(img *image.RGBA, x0, x1, y int, c color.RGBA) {
	for x := x0; x < x1; x++ {
		img.SetRGBA(x, y, c)
	}
}

func vline(img *image.RGBA, x, y0, y1 int, c color.RGBA) {
	for y := y0; y < y1; y++ {
		img.SetRGBA(x, y, c)
	}
}

func disc(img *image.RGBA, cx, cy, rad int, c color.RGBA) {
	for y := cy - rad; y <= cy+rad; y++ {
		for x := cx - rad; x <= cx+rad; x++ {
			if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= rad*rad {
				img.Set(x, y, c)
			}
		}
	}
}
