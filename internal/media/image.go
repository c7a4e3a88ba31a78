package media

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/disintegration/imaging"
	"golang.org/x/image/webp"

	"minsheng"
)

// Defaults for Limits fields left at zero.
const (
	DefaultMaxBytes  = 10 << 20
	DefaultMaxPixels = 24_000_000
	// DefaultMaxDecodeBytes bounds the memory one decoded image may take:
	// a 24-megapixel phone photo needs 72 MB (JPEG) or 96 MB (8-bit RGBA
	// PNG); a 16-bit PNG takes twice as much per pixel and must be smaller.
	DefaultMaxDecodeBytes = 100 << 20
	DefaultThumbMax       = 320

	// maxSide refuses absurd shapes (1×40,000,000) that pass the pixel
	// limit but are no photo.
	maxSide = 20000
	// displayMax caps the long side of the image browsers get: enough for
	// any phone screen, a fraction of a 50-megapixel original's bytes.
	displayMax     = 2560
	displayQuality = 85
	thumbQuality   = 80
)

// Source types Process accepts, as MIME types.
const (
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
	TypeWebP = "image/webp"
)

// Limits bound what Process accepts. Zero fields take the defaults.
type Limits struct {
	MaxBytes  int64 // largest upload in bytes; default 10 MB
	MaxPixels int   // largest width×height; default 24,000,000
	// MaxDecodeBytes bounds DecodeMemory, the estimated size of the decoded
	// pixels; default 100 MB.
	MaxDecodeBytes int64
	ThumbMax       int // long side of the thumbnail in pixels; default 320
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxDecodeBytes <= 0 {
		l.MaxDecodeBytes = DefaultMaxDecodeBytes
	}
	if l.ThumbMax <= 0 {
		l.ThumbMax = DefaultThumbMax
	}
	return l
}

// GPS is where a photo was taken, in decimal degrees (WGS 84, as cameras
// record it; south and west are negative).
type GPS struct {
	Lat, Lng float64
}

// Photo is an upload made safe to serve.
type Photo struct {
	// Display is the photo re-encoded as JPEG (quality 85, long side at
	// most 2560 px, EXIF orientation applied). Re-encoding drops all
	// metadata, so no GPS position or device name reaches a browser.
	Display []byte
	// Thumb is a JPEG whose long side is Limits.ThumbMax.
	Thumb []byte
	// Width and Height are Display's dimensions, upright.
	Width, Height int
	// SourceType is the uploaded format, decided by content: TypeJPEG,
	// TypePNG or TypeWebP.
	SourceType string
	// GPS is the position recorded in the original's EXIF, nil if none.
	// It is kept for staff, never served with the photo.
	GPS *GPS
	// SHA256 is the hex digest of the original bytes, for spotting the same
	// photo uploaded twice.
	SHA256 string
}

// Process checks and converts one uploaded photo. Its errors are
// *minsheng.Error with a message fit for the uploader:
//   - ETOOLARGE: more than MaxBytes, more than MaxPixels, a side over
//     20000 px, or an estimated decode memory over MaxDecodeBytes (see
//     DecodeMemory); all checked from the header, before any pixel is
//     decoded, so a small file declaring a huge or deep image cannot
//     exhaust memory or CPU;
//   - EUNSUPPORTED: not JPEG, PNG or WebP by its magic bytes (the file name
//     and declared type are not trusted);
//   - EINVALID: empty or corrupt.
//
// Errors reading r are returned wrapped, as EINTERNAL.
//
// Decoding needs memory in proportion to the pixels, up to MaxDecodeBytes
// plus the resized copies, and resizing uses every core, so callers bound
// how many run at once (Gate).
func Process(r io.Reader, lim Limits) (*Photo, error) {
	lim = lim.withDefaults()
	data, err := readPhoto(r, lim)
	if err != nil {
		return nil, err
	}
	typ := sniff(data)
	decodeConfig, decode, err := decoders(typ)
	if err != nil {
		return nil, err
	}
	if err := checkDeclared(data, typ, decodeConfig, lim); err != nil {
		return nil, err
	}
	img, err := decode(bytes.NewReader(data))
	if err != nil {
		return nil, corrupt(err)
	}

	sum := sha256.Sum256(data)
	p := &Photo{SourceType: typ, SHA256: hex.EncodeToString(sum[:])}
	orientation := 0
	if typ == TypeJPEG {
		// EXIF is optional and often mangled by editing apps: a photo with
		// unreadable EXIF is still a photo, it just has no position and is
		// shown as stored.
		if x, ok := readJPEGExif(data); ok {
			p.GPS = x.gps
			orientation = x.orientation
		}
	}
	if err := p.render(img, orientation, lim); err != nil {
		return nil, err
	}
	return p, nil
}

// readPhoto reads an upload of at most lim.MaxBytes, not empty.
func readPhoto(r io.Reader, lim Limits) ([]byte, error) {
	// One byte past the limit tells "exactly the limit" from "over it"
	// without reading an arbitrarily large body.
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("media: unable to read photo: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, minsheng.Errorf(minsheng.ETOOLARGE, "照片不能超过 %s", humanBytes(lim.MaxBytes))
	}
	if len(data) == 0 {
		return nil, minsheng.Errorf(minsheng.EINVALID, "照片是空的")
	}
	return data, nil
}

// decoders returns the header and image decoders of the sniffed type.
//
// Each format's own decoder is called directly instead of through
// image.Decode's registry: the sniffed type, not whatever package
// happens to be linked in, decides which parser sees the bytes.
func decoders(typ string) (decodeConfig func(io.Reader) (image.Config, error), decode func(io.Reader) (image.Image, error), err error) {
	switch typ {
	case TypeJPEG:
		return jpeg.DecodeConfig, jpeg.Decode, nil
	case TypePNG:
		return png.DecodeConfig, png.Decode, nil
	case TypeWebP:
		return webp.DecodeConfig, webp.Decode, nil
	default:
		return nil, nil, minsheng.Errorf(minsheng.EUNSUPPORTED, "只支持 JPEG、PNG、WebP 照片")
	}
}

// checkDeclared checks the size and decode memory the photo's header
// declares against lim, before any pixel is decoded.
func checkDeclared(data []byte, typ string, decodeConfig func(io.Reader) (image.Config, error), lim Limits) error {
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil {
		return corrupt(err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return corrupt(fmt.Errorf("media: photo declares %d×%d pixels", cfg.Width, cfg.Height))
	}
	if cfg.Width > maxSide || cfg.Height > maxSide || int64(cfg.Width)*int64(cfg.Height) > int64(lim.MaxPixels) {
		return &minsheng.Error{Code: minsheng.ETOOLARGE,
			Message: fmt.Sprintf("照片尺寸过大（最多 %s像素，每边不超过 %d 像素）", humanPixels(lim.MaxPixels), maxSide),
			Err:     fmt.Errorf("media: photo declares %d×%d pixels", cfg.Width, cfg.Height)}
	}
	if need := DecodeMemory(cfg, typ == TypePNG && pngInterlaced(data)); need > lim.MaxDecodeBytes {
		return &minsheng.Error{Code: minsheng.ETOOLARGE,
			Message: fmt.Sprintf("照片像素或色深过高（解码需约 %s，上限 %s），请用手机的普通拍照模式或压缩后再上传",
				humanBytes(need), humanBytes(lim.MaxDecodeBytes)),
			Err: fmt.Errorf("media: %d×%d %T photo needs about %d bytes decoded", cfg.Width, cfg.Height, cfg.ColorModel, need)}
	}
	return nil
}

// render sets the photo's display image and thumbnail from img, turned
// upright by its EXIF orientation.
func (p *Photo) render(img image.Image, orientation int, lim Limits) error {
	// Scale down before rotating and flattening: both copy every pixel, and
	// a 40-megapixel original has about nine times the pixels of the display
	// image.
	// The bounding box is square, so rotating afterwards gives the same size.
	display := img
	if b := img.Bounds(); b.Dx() > displayMax || b.Dy() > displayMax {
		display = imaging.Fit(img, displayMax, displayMax, imaging.Lanczos)
	}
	display = flatten(orient(display, orientation))
	// The thumbnail is made from the display image: same look, a fraction
	// of the work of resampling the full original again.
	thumb := imaging.Fit(display, lim.ThumbMax, lim.ThumbMax, imaging.Lanczos)

	var err error
	if p.Display, err = encodeJPEG(display, displayQuality); err != nil {
		return err
	}
	if p.Thumb, err = encodeJPEG(thumb, thumbQuality); err != nil {
		return err
	}
	p.Width, p.Height = display.Bounds().Dx(), display.Bounds().Dy()
	return nil
}

// DecodeMemory estimates the bytes the decoded pixels of an image with
// header cfg take: width × height × the bytes per pixel of its color model
// (16-bit models count double the 8-bit ones; JPEG's YCbCr counts as 4:4:4,
// the worst case; an unknown model counts as 8). An interlaced PNG is
// decoded pass by pass into extra buffers, so it counts double.
func DecodeMemory(cfg image.Config, interlaced bool) int64 {
	n := int64(cfg.Width) * int64(cfg.Height) * bytesPerPixel(cfg.ColorModel)
	if interlaced {
		n *= 2
	}
	return n
}

func bytesPerPixel(m color.Model) int64 {
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel, color.NYCbCrAModel:
		return 4
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	}
	return 8
}

// pngInterlaced reads the interlace method from a PNG's IHDR, which
// png.DecodeConfig has already validated: signature (8), length (4),
// "IHDR" (4), width, height (8), depth, color type, compression, filter.
func pngInterlaced(b []byte) bool {
	return len(b) > 28 && b[28] == 1
}

func corrupt(err error) error {
	return &minsheng.Error{Code: minsheng.EINVALID, Message: "照片已损坏，无法读取", Err: err}
}

// sniff names the format by its magic bytes.
func sniff(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return TypeJPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return TypePNG
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return TypeWebP
	}
	return ""
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		// Rounded up: a limit is never shown smaller than it is.
		return fmt.Sprintf("%d MB", (n+1<<20-1)>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d 字节", n)
}

func humanPixels(n int) string {
	if n >= 10000 && n%10000 == 0 {
		return fmt.Sprintf("%d 万", n/10000)
	}
	return fmt.Sprintf("%d ", n)
}

// flatten puts an image with transparency on white: JPEG has no alpha, and
// the encoder would otherwise show transparent areas as black.
func flatten(img image.Image) image.Image {
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return img
	}
	b := img.Bounds()
	bg := imaging.New(b.Dx(), b.Dy(), color.White)
	return imaging.Overlay(bg, img, image.Pt(0, 0), 1)
}

func encodeJPEG(img image.Image, quality int) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("media: unable to encode JPEG: %w", err)
	}
	return buf.Bytes(), nil
}

// orient turns img upright according to the EXIF Orientation tag (1–8),
// which says how the camera was held rather than rotating the pixels.
func orient(img image.Image, o int) image.Image {
	switch o {
	case 2:
		return imaging.FlipH(img)
	case 3:
		return imaging.Rotate180(img)
	case 4:
		return imaging.FlipV(img)
	case 5:
		return imaging.Transpose(img)
	case 6:
		// Rotate clockwise by 90°; imaging's angles are counter-clockwise.
		return imaging.Rotate270(img)
	case 7:
		return imaging.Transverse(img)
	case 8:
		return imaging.Rotate90(img)
	}
	return img
}
