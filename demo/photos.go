package demo

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// Photo sizes: small, so the demo stays light, but above the thumbnail size
// so the real pipeline has something to shrink.
const (
	photoW = 480
	photoH = 360
)

// scene is a kind of place a case's photos show.
type scene int

const (
	sceneCourtyard scene = iota // 平房院落: grey brick walls, a door, the ground
	sceneToilet                 // a public toilet block
	sceneHutong                 // a hutong with parked cars
	sceneRoom                   // a care-station room with tables and chairs
	sceneStairwell              // a dark stairwell
)

// sceneOf is where a request's photos are taken.
func sceneOf(t *template) scene {
	switch t.item {
	case "SQ-05-04":
		return sceneToilet
	case "SQ-03-02", "CG-02-01", "CG-04-01", "CG-06-04", "CG-01-02", "DQ-02-01":
		return sceneHutong
	case "SQ-05-06", "SQ-05-02", "PA-02-03", "PA-02-04", "PA-04-01":
		return sceneStairwell
	case "MS-07-02": // fitness equipment stands outdoors, in a courtyard
		return sceneCourtyard
	}
	switch t.area {
	case "MS", "DQ", "ZH":
		return sceneRoom
	}
	return sceneCourtyard
}

// drawPhoto draws a generated photo of a scene: "before" as the resident
// found it (dirt, puddles, clutter, dim light), "after" the same place put
// right. The pair shares the seed, so an after photo shows the same walls,
// door and cars as its before photo. The picture depends only on the
// scene, the variant and seed. It returns JPEG bytes.
func drawPhoto(seed uint64, sc scene, after bool) []byte {
	c := &canvas{img: image.NewRGBA(image.Rect(0, 0, photoW, photoH)), r: rand.New(rand.NewPCG(seed, uint64(sc)))}
	switch sc {
	case sceneToilet:
		c.toilet(after)
	case sceneHutong:
		c.hutong(after)
	case sceneRoom:
		c.room(after)
	case sceneStairwell:
		c.stairwell(after)
	default:
		c.courtyard(after)
	}
	// Sensor noise and a slight vignette, drawn from a stream of their own
	// so before and after differ in grain as two real shots would.
	c.r = rand.New(rand.NewPCG(seed, 0x6e6f697365+boolBit(after)))
	c.grain(6)
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, c.img, &jpeg.Options{Quality: 82}) // writing to memory cannot fail
	return buf.Bytes()
}

func boolBit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// canvas is an image and the random source its shapes are drawn from.
type canvas struct {
	img *image.RGBA
	r   *rand.Rand
}

func rgb(r, g, b int) color.RGBA {
	return color.RGBA{uint8(clamp(r)), uint8(clamp(g)), uint8(clamp(b)), 0xff}
}

func clamp(v int) int { return min(max(v, 0), 255) }

// jitter varies c by up to ±d on each channel, the same on all three.
func (c *canvas) jitter(col color.RGBA, d int) color.RGBA {
	n := c.r.IntN(2*d+1) - d
	return rgb(int(col.R)+n, int(col.G)+n, int(col.B)+n)
}

func shade(col color.RGBA, f float64) color.RGBA {
	return rgb(int(float64(col.R)*f), int(float64(col.G)*f), int(float64(col.B)*f))
}

func mix(a, b color.RGBA, t float64) color.RGBA {
	return rgb(int(float64(a.R)*(1-t)+float64(b.R)*t), int(float64(a.G)*(1-t)+float64(b.G)*t), int(float64(a.B)*(1-t)+float64(b.B)*t))
}

func (c *canvas) set(x, y int, col color.RGBA) {
	if x >= 0 && y >= 0 && x < photoW && y < photoH {
		c.img.SetRGBA(x, y, col)
	}
}

// rect fills [x0,x1)×[y0,y1) with col, each pixel varied by up to ±noise.
func (c *canvas) rect(x0, y0, x1, y1 int, col color.RGBA, noise int) {
	for y := max(y0, 0); y < min(y1, photoH); y++ {
		for x := max(x0, 0); x < min(x1, photoW); x++ {
			if noise > 0 {
				c.img.SetRGBA(x, y, c.jitter(col, noise))
			} else {
				c.img.SetRGBA(x, y, col)
			}
		}
	}
}

// vgrad fills [x0,x1)×[y0,y1) with a vertical gradient from top to bottom.
func (c *canvas) vgrad(x0, y0, x1, y1 int, top, bottom color.RGBA, noise int) {
	for y := max(y0, 0); y < min(y1, photoH); y++ {
		t := float64(y-y0) / float64(max(y1-y0-1, 1))
		col := mix(top, bottom, t)
		for x := max(x0, 0); x < min(x1, photoW); x++ {
			if noise > 0 {
				c.img.SetRGBA(x, y, c.jitter(col, noise))
			} else {
				c.img.SetRGBA(x, y, col)
			}
		}
	}
}

// poly fills a polygon (even-odd rule, scanlines).
func (c *canvas) poly(pts [][2]float64, col color.RGBA, noise int) {
	minY, maxY := photoH, 0
	for _, p := range pts {
		minY, maxY = min(minY, int(p[1])), max(maxY, int(math.Ceil(p[1])))
	}
	for y := max(minY, 0); y < min(maxY, photoH); y++ {
		fy := float64(y) + 0.5
		var xs []float64
		for i := range pts {
			a, b := pts[i], pts[(i+1)%len(pts)]
			if (a[1] <= fy) != (b[1] <= fy) {
				xs = append(xs, a[0]+(fy-a[1])/(b[1]-a[1])*(b[0]-a[0]))
			}
		}
		for i := 1; i < len(xs); i++ {
			for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
				xs[j], xs[j-1] = xs[j-1], xs[j]
			}
		}
		for i := 0; i+1 < len(xs); i += 2 {
			for x := max(int(xs[i]+0.5), 0); x < min(int(xs[i+1]+0.5), photoW); x++ {
				if noise > 0 {
					c.img.SetRGBA(x, y, c.jitter(col, noise))
				} else {
					c.img.SetRGBA(x, y, col)
				}
			}
		}
	}
}

// disc fills an ellipse centred on (cx, cy).
func (c *canvas) disc(cx, cy, rx, ry int, col color.RGBA, noise int) {
	for y := cy - ry; y <= cy+ry; y++ {
		for x := cx - rx; x <= cx+rx; x++ {
			dx, dy := float64(x-cx)/float64(max(rx, 1)), float64(y-cy)/float64(max(ry, 1))
			if dx*dx+dy*dy <= 1 {
				if noise > 0 {
					c.set(x, y, c.jitter(col, noise))
				} else {
					c.set(x, y, col)
				}
			}
		}
	}
}

// line draws a line of width w.
func (c *canvas) line(x0, y0, x1, y1 float64, w int, col color.RGBA) {
	n := int(math.Max(math.Abs(x1-x0), math.Abs(y1-y0))) + 1
	for i := 0; i <= n; i++ {
		t := float64(i) / float64(n)
		x, y := int(x0+(x1-x0)*t), int(y0+(y1-y0)*t)
		for dy := -w / 2; dy <= w/2; dy++ {
			for dx := -w / 2; dx <= w/2; dx++ {
				c.set(x+dx, y+dy, col)
			}
		}
	}
}

// light brightens the picture around (cx, cy) by up to gain, falling off
// over radius: a lamp or a window's light.
func (c *canvas) light(cx, cy, radius, gain float64) {
	for y := 0; y < photoH; y++ {
		for x := 0; x < photoW; x++ {
			d := math.Hypot(float64(x)-cx, float64(y)-cy) / radius
			if d >= 1 {
				continue
			}
			f := 1 + gain*(1-d)*(1-d)
			p := c.img.RGBAAt(x, y)
			c.img.SetRGBA(x, y, rgb(int(float64(p.R)*f), int(float64(p.G)*f), int(float64(p.B)*f)))
		}
	}
}

// grain adds per-pixel noise of up to ±n and darkens the corners a little.
func (c *canvas) grain(n int) {
	for y := 0; y < photoH; y++ {
		for x := 0; x < photoW; x++ {
			dx, dy := float64(x-photoW/2)/photoW, float64(y-photoH/2)/photoH
			f := 1 - 0.35*(dx*dx+dy*dy)
			p := c.img.RGBAAt(x, y)
			d := c.r.IntN(2*n+1) - n
			c.img.SetRGBA(x, y, rgb(int(float64(p.R)*f)+d, int(float64(p.G)*f)+d, int(float64(p.B)*f)+d))
		}
	}
}

// sky is a daylight or overcast sky above y.
func (c *canvas) sky(y int, after bool) {
	top, bottom := rgb(120, 160, 205), rgb(205, 222, 236)
	if !after {
		top, bottom = rgb(150, 156, 164), rgb(200, 202, 204) // overcast, hazy
	}
	c.vgrad(0, 0, photoW, y, top, bottom, 2)
}

// bricks draws a grey brick wall (北京灰砖) over [x0,x1)×[y0,y1).
func (c *canvas) bricks(x0, y0, x1, y1 int, base color.RGBA, worn bool) {
	c.rect(x0, y0, x1, y1, base, 4)
	mortar := shade(base, 1.18)
	if worn {
		mortar = shade(base, 0.85)
	}
	const bh, bw = 9, 26
	for y := y0; y < y1; y += bh {
		c.rect(x0, y, x1, y+1, mortar, 2)
		off := 0
		if ((y-y0)/bh)%2 == 1 {
			off = bw / 2
		}
		for x := x0 + off; x < x1; x += bw {
			c.rect(x, y, x+1, min(y+bh, y1), mortar, 2)
			// Bricks differ a little in tone.
			if c.r.IntN(4) == 0 {
				c.rect(x+1, y+1, min(x+bw, x1), min(y+bh, y1), shade(base, 0.9+0.2*c.r.Float64()), 3)
			}
		}
	}
}

// roof draws a grey tile roof's edge (瓦檐) along the top of a wall.
func (c *canvas) roof(x0, x1, y int) {
	c.rect(x0-6, y-14, x1+6, y, rgb(70, 72, 76), 5)
	for x := x0 - 6; x < x1+6; x += 8 {
		c.disc(x+4, y-2, 4, 3, rgb(55, 57, 60), 3)
	}
}

// dirt scatters stains, cracks and rubbish over [x0,x1)×[y0,y1).
func (c *canvas) dirt(x0, y0, x1, y1, n int) {
	for range n {
		cx, cy := x0+c.r.IntN(max(x1-x0, 1)), y0+c.r.IntN(max(y1-y0, 1))
		c.disc(cx, cy, 4+c.r.IntN(18), 3+c.r.IntN(8), rgb(70+c.r.IntN(30), 62+c.r.IntN(20), 50), 8)
	}
	for range 2 + n/4 {
		x, y := float64(x0+c.r.IntN(max(x1-x0, 1))), float64(y0+c.r.IntN(max(y1-y0, 1)))
		for range 6 {
			nx, ny := x+float64(c.r.IntN(21)-10), y+float64(4+c.r.IntN(10))
			c.line(x, y, nx, ny, 1, rgb(40, 40, 42))
			x, y = nx, ny
		}
	}
}

// puddles on uneven ground (地面坑洼).
func (c *canvas) puddles(y0, y1, n int) {
	for range n {
		cx, cy := c.r.IntN(photoW), y0+c.r.IntN(max(y1-y0, 1))
		c.disc(cx, cy, 18+c.r.IntN(40), 4+c.r.IntN(8), rgb(96, 106, 114), 4)
		c.disc(cx-5, cy-1, 8+c.r.IntN(10), 2, rgb(150, 160, 168), 3)
	}
}

// door draws a courtyard gate: dark red leaves in a frame, with studs.
func (c *canvas) door(x, y, w, h int, paint color.RGBA, worn bool) {
	c.rect(x-6, y-8, x+w+6, y+h, rgb(60, 50, 44), 4) // frame and lintel
	if worn {
		paint = mix(paint, rgb(110, 100, 90), 0.45)
	}
	c.rect(x, y, x+w/2-1, y+h, paint, 6)
	c.rect(x+w/2+1, y, x+w, y+h, paint, 6)
	for _, sx := range []int{x + w/4, x + 3*w/4} {
		for sy := y + 14; sy < y+h-10; sy += 16 {
			c.disc(sx, sy, 2, 2, rgb(200, 170, 80), 10)
		}
	}
	c.disc(x+w/2-6, y+h/2, 3, 3, rgb(190, 160, 70), 5)
	c.disc(x+w/2+6, y+h/2, 3, 3, rgb(190, 160, 70), 5)
	c.rect(x-8, y+h-6, x+w+8, y+h, rgb(120, 118, 112), 6) // threshold stone
}

func (c *canvas) courtyard(after bool) {
	horizon := 90 + c.r.IntN(30)
	ground := 250 + c.r.IntN(30)
	c.sky(horizon, after)
	wall := rgb(118+c.r.IntN(20), 120+c.r.IntN(20), 124+c.r.IntN(16))
	c.bricks(0, horizon, photoW, ground, wall, !after)
	c.roof(0, photoW, horizon)
	dx := 40 + c.r.IntN(photoW-160)
	c.door(dx, ground-120, 70+c.r.IntN(20), 120, rgb(130, 30, 28), !after)
	// A window with a wooden lattice on the other side.
	wx := (dx + 200 + c.r.IntN(100)) % (photoW - 90)
	if wx+80 < dx-10 || wx > dx+100 {
		c.rect(wx, horizon+40, wx+80, horizon+100, rgb(48, 52, 58), 3)
		for i := 0; i <= 4; i++ {
			c.rect(wx+i*20, horizon+40, wx+i*20+2, horizon+100, rgb(110, 60, 40), 3)
		}
		c.rect(wx, horizon+68, wx+80, horizon+71, rgb(110, 60, 40), 3)
	}
	if after {
		c.vgrad(0, ground, photoW, photoH, rgb(168, 166, 160), rgb(150, 148, 142), 5)
		for y, row := ground+8, 0; y < photoH; y, row = y+10+row*3, row+1 { // new paving stones
			c.rect(0, y, photoW, y+1, rgb(136, 134, 128), 2)
			for x := (row % 2) * 30; x < photoW; x += 60 + row*6 {
				c.rect(x, y-8-row*3, x+1, y, rgb(136, 134, 128), 2)
			}
		}
		c.light(float64(photoW)*0.7, 0, 420, 0.15)
		return
	}
	c.vgrad(0, ground, photoW, photoH, rgb(112, 104, 94), rgb(94, 88, 80), 12)
	c.puddles(ground+10, photoH-10, 2+c.r.IntN(3))
	c.dirt(0, horizon+10, photoW, ground, 6+c.r.IntN(6))
	c.dirt(0, ground, photoW, photoH, 4+c.r.IntN(4))
}

func (c *canvas) toilet(after bool) {
	horizon := 110 + c.r.IntN(20)
	ground := 270
	c.sky(horizon+20, after)
	// Neighbouring walls behind.
	c.bricks(0, horizon+20, photoW, ground, rgb(124, 126, 128), !after)
	// The block: a small building with a flat roof.
	bx := 60 + c.r.IntN(120)
	bw := 220 + c.r.IntN(60)
	face := rgb(196, 192, 182)
	if after {
		face = rgb(226, 228, 226)
	}
	c.rect(bx-8, horizon-8, bx+bw+8, horizon+6, rgb(90, 92, 96), 4) // roof slab
	c.rect(bx, horizon+6, bx+bw, ground, face, 5)
	if after { // tiled lower wall
		for y := ground - 70; y < ground; y += 12 {
			c.rect(bx, y, bx+bw, y+1, rgb(190, 196, 200), 2)
		}
		c.rect(bx, ground-70, bx+bw, ground-68, rgb(60, 110, 170), 2)
	}
	// Two doorways (男 / 女) with a sign above each.
	for i, col := range []color.RGBA{rgb(50, 90, 150), rgb(170, 60, 70)} {
		x := bx + 30 + i*(bw/2)
		c.rect(x, ground-110, x+54, ground, rgb(40, 40, 44), 4)
		if after {
			c.rect(x+4, ground-106, x+50, ground, shade(col, 1.2), 5)
			c.disc(x+42, ground-55, 3, 3, rgb(220, 220, 220), 2)
		}
		c.rect(x+12, ground-140, x+42, ground-118, col, 3)
		c.disc(x+27, ground-134, 4, 4, rgb(240, 240, 240), 0)
		c.rect(x+23, ground-129, x+31, ground-120, rgb(240, 240, 240), 0)
	}
	// A small high window with a vent.
	c.rect(bx+bw-50, horizon+24, bx+bw-20, horizon+44, rgb(60, 64, 70), 3)
	if after {
		c.vgrad(0, ground, photoW, photoH, rgb(170, 168, 164), rgb(152, 150, 146), 4)
		c.light(float64(bx+bw/2), float64(horizon), 380, 0.12)
		return
	}
	c.vgrad(0, ground, photoW, photoH, rgb(110, 100, 88), rgb(92, 86, 78), 12)
	c.dirt(bx, horizon+10, bx+bw, ground, 10+c.r.IntN(6)) // stains on the wall
	c.puddles(ground+12, photoH-8, 2+c.r.IntN(2))
	// A bucket and a heap by the door: night soil still carried by hand.
	hx := bx + bw + 10 + c.r.IntN(40)
	c.rect(hx, ground-30, hx+26, ground+4, rgb(70, 100, 80), 6)
	c.disc(hx+60, ground+14, 30, 10, rgb(84, 74, 60), 12)
}

// car draws a car seen from the side at (x, y) (its lowest point), scale s.
func (c *canvas) car(x, y int, s float64, paint color.RGBA) {
	w, h := int(150*s), int(46*s)
	c.rect(x, y-h, x+w, y-int(10*s), paint, 6)
	c.poly([][2]float64{{float64(x) + 28*s, float64(y - h)}, {float64(x) + 50*s, float64(y-h) - 26*s},
		{float64(x) + 110*s, float64(y-h) - 26*s}, {float64(x) + 128*s, float64(y - h)}}, paint, 6)
	glass := rgb(70, 88, 104)
	c.poly([][2]float64{{float64(x) + 36*s, float64(y-h) - 2}, {float64(x) + 54*s, float64(y-h) - 22*s},
		{float64(x) + 78*s, float64(y-h) - 22*s}, {float64(x) + 78*s, float64(y-h) - 2}}, glass, 4)
	c.poly([][2]float64{{float64(x) + 82*s, float64(y-h) - 2}, {float64(x) + 82*s, float64(y-h) - 22*s},
		{float64(x) + 106*s, float64(y-h) - 22*s}, {float64(x) + 120*s, float64(y-h) - 2}}, glass, 4)
	for _, wx := range []float64{30, 118} {
		c.disc(x+int(wx*s), y-int(8*s), int(14*s), int(14*s), rgb(30, 30, 32), 3)
		c.disc(x+int(wx*s), y-int(8*s), int(6*s), int(6*s), rgb(150, 150, 152), 3)
	}
	c.rect(x+int(4*s), y-int(34*s), x+int(12*s), y-int(28*s), rgb(230, 200, 120), 4) // lamp
}

var carPaints = []color.RGBA{{0xe8, 0xe8, 0xe6, 0xff}, {0x2a, 0x2c, 0x30, 0xff}, {0x9a, 0x9e, 0xa4, 0xff},
	{0x8c, 0x1c, 0x1c, 0xff}, {0x2c, 0x4a, 0x7a, 0xff}, {0xc8, 0xc0, 0xb0, 0xff}}

func (c *canvas) hutong(after bool) {
	vx := float64(200 + c.r.IntN(80))
	vy := float64(130 + c.r.IntN(20))
	c.sky(int(vy)+10, after)
	wall := rgb(120+c.r.IntN(16), 122+c.r.IntN(16), 126+c.r.IntN(12))
	// Left and right walls converging on the vanishing point, the lane between.
	c.poly([][2]float64{{0, 40}, {vx - 30, vy - 16}, {vx - 30, vy + 16}, {0, photoH}}, wall, 6)
	c.poly([][2]float64{{photoW, 30}, {vx + 30, vy - 18}, {vx + 30, vy + 16}, {photoW, photoH}}, shade(wall, 0.86), 6)
	for i := 0; i < 12; i++ { // brick courses in perspective
		t := float64(i) / 12
		c.line(0, 40+t*(photoH-40), vx-30, vy-16+t*32, 1, shade(wall, 0.8))
		c.line(photoW, 30+t*(photoH-30), vx+30, vy-18+t*34, 1, shade(wall, 0.7))
	}
	c.poly([][2]float64{{0, 40}, {vx - 30, vy - 16}, {vx - 30, vy - 22}, {0, 22}}, rgb(66, 68, 72), 5) // eaves
	c.poly([][2]float64{{photoW, 30}, {vx + 30, vy - 18}, {vx + 30, vy - 24}, {photoW, 12}}, rgb(60, 62, 66), 5)
	lane := rgb(104, 102, 98)
	if after {
		lane = rgb(128, 126, 122)
	}
	c.poly([][2]float64{{0, photoH}, {vx - 30, vy + 16}, {vx + 30, vy + 16}, {photoW, photoH}}, lane, 8)
	// A red gate in the left wall.
	c.poly([][2]float64{{70, 150}, {110, 146}, {110, 262}, {70, 276}}, rgb(120, 34, 30), 6)
	// Cars: after, parked in painted bays along one side; before, anywhere.
	n := 3 + c.r.IntN(3)
	type parked struct {
		x, y int
		s    float64
		col  color.RGBA
	}
	var cars []parked
	for i := range n {
		t := float64(i) / float64(n)
		s := 0.35 + 0.55*(1-t)
		y := int(vy + 20 + (photoH-vy-20)*(1-t)*0.9)
		x := int(vx + 40 + (photoW-vx-40)*(1-t)*0.3)
		if !after {
			if c.r.IntN(2) == 0 {
				x = int(float64(c.r.IntN(photoW)) - 75*s)
			}
			y += c.r.IntN(20) - 10
		}
		cars = append(cars, parked{x, y, s, carPaints[c.r.IntN(len(carPaints))]})
	}
	if after {
		for i := 0; i <= n; i++ {
			t := float64(i) / float64(n)
			y := vy + 20 + (photoH-vy-20)*(1-t)*0.9
			c.line(vx+30+(photoW-vx-30)*(1-t)*0.25, y+4, photoW, y+4+40*(1-t), 2, rgb(235, 235, 230))
		}
		c.line(vx+10, vy+18, float64(photoW)*0.55, photoH, 2, rgb(230, 230, 225))
	} else {
		c.dirt(0, int(vy)+20, photoW, photoH, 3+c.r.IntN(4))
	}
	for i := len(cars) - 1; i >= 0; i-- { // far ones first
		k := cars[i]
		c.car(k.x, k.y, k.s, k.col)
	}
}

func (c *canvas) room(after bool) {
	floorY := 230 + c.r.IntN(20)
	wall := rgb(214, 206, 188)
	if !after {
		wall = rgb(176, 170, 156)
	}
	c.vgrad(0, 0, photoW, floorY, shade(wall, 0.92), wall, 3)
	c.rect(0, floorY-14, photoW, floorY, rgb(140, 110, 80), 4) // skirting
	wood := rgb(170, 128, 86)
	if !after {
		wood = rgb(120, 100, 84)
	}
	c.vgrad(0, floorY, photoW, photoH, shade(wood, 0.9), wood, 8)
	for y := floorY; y < photoH; y += 14 + (y-floorY)/6 {
		c.rect(0, y, photoW, y+1, shade(wood, 0.75), 3)
	}
	// A window with daylight.
	wx := 40 + c.r.IntN(260)
	c.rect(wx-4, 40, wx+144, 154, rgb(240, 240, 236), 2)
	c.vgrad(wx, 44, wx+140, 150, rgb(170, 200, 230), rgb(220, 232, 240), 2)
	c.rect(wx+68, 44, wx+72, 150, rgb(240, 240, 236), 0)
	// A notice board.
	nx := (wx + 220) % (photoW - 100)
	c.rect(nx, 60, nx+90, 130, rgb(150, 40, 36), 3)
	for i := range 4 {
		c.rect(nx+8, 70+i*14, nx+60+c.r.IntN(24), 76+i*14, rgb(236, 226, 200), 2)
	}
	// Tables with chairs round them; after, more of them and a plant.
	tables := 1 + c.r.IntN(2)
	if after {
		tables++
	}
	for i := range tables {
		tx := 30 + i*(photoW-60)/tables + c.r.IntN(30)
		ty := floorY + 30 + c.r.IntN(40)
		top := rgb(230, 226, 214)
		if !after {
			top = rgb(170, 160, 140)
		}
		c.rect(tx, ty-6, tx+130, ty, shade(top, 0.8), 3)
		c.rect(tx-6, ty-14, tx+136, ty-6, top, 3)
		c.rect(tx+4, ty, tx+10, ty+50, rgb(90, 80, 70), 2)
		c.rect(tx+120, ty, tx+126, ty+50, rgb(90, 80, 70), 2)
		chairs := 2 + c.r.IntN(2)
		if !after {
			chairs = c.r.IntN(2) + 1
		}
		for j := range chairs {
			cx := tx - 20 + j*60
			seat := rgb(60, 110, 150)
			if !after {
				seat = rgb(110, 100, 90)
			}
			c.rect(cx, ty-40, cx+6, ty+46, rgb(70, 70, 74), 2) // back post
			c.rect(cx, ty-40, cx+36, ty-28, seat, 3)           // back rest
			c.rect(cx, ty+12, cx+40, ty+20, seat, 3)           // seat
			c.rect(cx+34, ty+20, cx+38, ty+46, rgb(70, 70, 74), 2)
		}
	}
	if after {
		px := photoW - 60
		c.rect(px, floorY+10, px+30, floorY+40, rgb(150, 90, 60), 4)
		for range 9 {
			c.disc(px+15+c.r.IntN(30)-15, floorY-10+c.r.IntN(24), 10, 6, rgb(60, 120+c.r.IntN(40), 60), 8)
		}
		c.light(float64(wx+70), 100, 360, 0.25)
		return
	}
	c.dirt(0, 20, photoW, floorY-20, 3+c.r.IntN(3)) // damp stains
	c.light(float64(wx+70), 100, 300, -0.05)
}

func (c *canvas) stairwell(after bool) {
	base := rgb(70, 70, 72)
	if after {
		base = rgb(150, 148, 142)
	}
	c.vgrad(0, 0, photoW, photoH, shade(base, 0.7), base, 5)
	// Wall paint line: lower half darker green, as in old buildings.
	c.rect(0, 160, photoW, photoH, mix(base, rgb(60, 100, 80), 0.35), 5)
	// Steps rising to the upper left.
	steps := 9 + c.r.IntN(4)
	x0, y0 := 80+c.r.IntN(60), photoH
	tread := rgb(120, 118, 114)
	if !after {
		tread = rgb(80, 78, 76)
	}
	for i := range steps {
		x := x0 + i*22
		y := y0 - i*20
		c.rect(x, y-20, photoW, y, shade(tread, 0.8+0.02*float64(i%3)), 6)
		c.rect(x, y-20, photoW, y-16, shade(tread, 1.15), 4) // nosing
	}
	// Handrail.
	c.line(float64(x0), float64(y0-60), float64(x0+steps*22), float64(y0-60-steps*20), 4, rgb(110, 70, 40))
	for i := 0; i < steps; i += 2 {
		x := x0 + i*22 + 10
		c.line(float64(x), float64(y0-i*20-20), float64(x), float64(y0-60-i*20), 2, rgb(60, 60, 62))
	}
	// A door on the landing and the lamp.
	c.rect(20, 60, 90, 210, rgb(110, 80, 60), 5)
	c.disc(80, 140, 3, 3, rgb(200, 180, 90), 2)
	lx, ly := 240+c.r.IntN(120), 30
	c.rect(lx-2, 0, lx+2, ly, rgb(40, 40, 40), 0)
	if after {
		c.disc(lx, ly+6, 14, 8, rgb(255, 250, 220), 2)
		c.light(float64(lx), float64(ly+10), 420, 0.6)
		return
	}
	c.disc(lx, ly+6, 12, 7, rgb(90, 90, 86), 2) // the dead bulb
	// Clutter on the steps: boxes, a bicycle wheel, bags.
	for range 3 + c.r.IntN(4) {
		i := c.r.IntN(steps - 2)
		x := x0 + i*22 + 30 + c.r.IntN(120)
		y := y0 - i*20 - 20
		w, h := 30+c.r.IntN(40), 20+c.r.IntN(30)
		c.rect(x, y-h, x+w, y, rgb(140+c.r.IntN(40), 110+c.r.IntN(20), 70), 10)
		c.rect(x, y-h, x+w, y-h+3, rgb(100, 80, 50), 4)
	}
	wx, wy := x0+60, y0-70
	for a := 0.0; a < 2*math.Pi; a += 0.05 {
		c.set(wx+int(26*math.Cos(a)), wy+int(26*math.Sin(a)), rgb(30, 30, 30))
		c.set(wx+int(25*math.Cos(a)), wy+int(25*math.Sin(a)), rgb(30, 30, 30))
	}
	c.light(float64(photoW/2), 0, 500, -0.25)
}
