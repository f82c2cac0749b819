package wechattest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/skip2/go-qrcode"
)

// Content is what a fake code encodes, as JSON text in the QR code. For
// interfaces A and C, Page holds the path and Scene is empty.
type Content struct {
	AppID string `json:"appid"`
	Page  string `json:"page"`
	Scene string `json:"scene"`
}

func (c Content) text() string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(c) // a struct of strings always encodes
	return string(bytes.TrimSpace(b.Bytes()))
}

// Render draws c as a width×width QR code with line colour rgb: a JPEG, or
// with hyaline a PNG with a transparent background.
func Render(c Content, width int, rgb [3]int, hyaline bool) ([]byte, error) {
	q, err := qrcode.New(c.text(), qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("wechattest: encode QR: %w", err)
	}
	rows := scaleRows(q.Bitmap(), width)
	var buf bytes.Buffer
	fg := color.NRGBA{uint8(rgb[0]), uint8(rgb[1]), uint8(rgb[2]), 255}
	switch {
	case hyaline:
		err = png.Encode(&buf, paletted(rows, fg))
	case rgb == [3]int{}:
		err = jpeg.Encode(&buf, gray(rows), &jpeg.Options{Quality: 90})
	default:
		err = jpeg.Encode(&buf, colored(rows, fg), &jpeg.Options{Quality: 90})
	}
	return buf.Bytes(), err
}

// scaleRows maps the module bitmap (quiet zone included) to width×width
// pixels: rows[y][x] is true where the pixel is dark. Every module gets the
// same whole number of pixels, centred on a white margin, because uneven
// modules made a few codes in a thousand unreadable after JPEG encoding.
// Rows of one module share their slice.
func scaleRows(bm [][]bool, width int) [][]bool {
	n := len(bm)
	size := max(1, width/n)
	off := (width - size*n) / 2
	module := func(p int) int {
		if p < off || p >= off+size*n {
			return -1
		}
		return (p - off) / size
	}
	blank := make([]bool, width)
	byModule := make([][]bool, n)
	for m, src := range bm {
		row := make([]bool, width)
		for x := range row {
			if mx := module(x); mx >= 0 {
				row[x] = src[mx]
			}
		}
		byModule[m] = row
	}
	rows := make([][]bool, width)
	for y := range rows {
		rows[y] = blank
		if my := module(y); my >= 0 {
			rows[y] = byModule[my]
		}
	}
	return rows
}

func gray(rows [][]bool) *image.Gray {
	w := len(rows)
	img := image.NewGray(image.Rect(0, 0, w, w))
	for y, row := range rows {
		pix := img.Pix[y*img.Stride : y*img.Stride+w]
		for x, dark := range row {
			if !dark {
				pix[x] = 0xFF
			}
		}
	}
	return img
}

func colored(rows [][]bool, fg color.NRGBA) *image.RGBA {
	w := len(rows)
	img := image.NewRGBA(image.Rect(0, 0, w, w))
	for y, row := range rows {
		pix := img.Pix[y*img.Stride : y*img.Stride+4*w]
		for x, dark := range row {
			c := color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}
			if dark {
				c = fg
			}
			copy(pix[4*x:], []byte{c.R, c.G, c.B, 0xFF})
		}
	}
	return img
}

// paletted draws on a transparent white background.
func paletted(rows [][]bool, fg color.NRGBA) *image.Paletted {
	w := len(rows)
	img := image.NewPaletted(image.Rect(0, 0, w, w), color.Palette{color.NRGBA{0xFF, 0xFF, 0xFF, 0}, fg})
	for y, row := range rows {
		pix := img.Pix[y*img.Stride : y*img.Stride+w]
		for x, dark := range row {
			if dark {
				pix[x] = 1
			}
		}
	}
	return img
}

// DecodeImage reads a stored code (JPEG or PNG, transparent or not) and
// returns what it encodes, proving which appid, page and scene it belongs
// to. It fails if the image is not a readable fake code.
func DecodeImage(data []byte) (Content, error) {
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return Content{}, fmt.Errorf("wechattest: decode image: %w", err)
	}
	// The luminance source composites transparent pixels over white.
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return Content{}, fmt.Errorf("wechattest: binarize: %w", err)
	}
	// A stored fake code is a pure barcode: read its modules directly first,
	// then fall back to the detector for anything re-encoded or scaled.
	res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		res, err = zxqr.NewQRCodeReader().Decode(bmp, nil)
	}
	if err != nil {
		res, err = zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	}
	if err != nil {
		return Content{}, fmt.Errorf("wechattest: read QR code: %w", err)
	}
	var c Content
	dec := json.NewDecoder(bytes.NewReader([]byte(res.GetText())))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Content{}, errors.New("wechattest: QR code does not hold a fake code's content")
	}
	return c, nil
}
