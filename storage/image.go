package storage

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"

	"github.com/wxacode/wxacode/code"
)

// ErrUnknownFormat is returned (wrapped) for bytes that are neither JPEG
// nor PNG.
var ErrUnknownFormat = errors.New("storage: not a JPEG or PNG image")

// DefaultJPEGQuality is what ToJPEG uses for a quality of 0, and what the
// worker converts at: high enough that a flattened code's modules stay
// sharp for scanners.
const DefaultJPEGQuality = 95

// SniffImage names the format of data from its magic bytes
// (code.FormatOf), never from a Content-Type header. Other data gives an
// error wrapping ErrUnknownFormat.
func SniffImage(data []byte) (code.Format, error) {
	if f, ok := code.FormatOf(data); ok {
		return f, nil
	}
	return "", fmt.Errorf("%w (first bytes % x)", ErrUnknownFormat, data[:min(len(data), 4)])
}

// ToPNG returns data as PNG: PNG input is returned unchanged, JPEG input is
// decoded and re-encoded losslessly. It fails for other or corrupt input.
func ToPNG(data []byte) ([]byte, error) {
	f, err := SniffImage(data)
	if err != nil {
		return nil, err
	}
	if f == code.PNG {
		return data, nil
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("storage: decode JPEG: %w", err)
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		return nil, fmt.Errorf("storage: encode PNG: %w", err)
	}
	return out.Bytes(), nil
}

// ToJPEG returns data as JPEG: JPEG input is returned unchanged, PNG input
// is decoded, flattened onto white (a transparent is_hyaline code would
// otherwise turn black and hide its dark lines) and encoded with quality
// 1-100 (0 means DefaultJPEGQuality). It fails for other or corrupt input.
func ToJPEG(data []byte, quality int) ([]byte, error) {
	f, err := SniffImage(data)
	if err != nil {
		return nil, err
	}
	if f == code.JPEG {
		return data, nil
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("storage: decode PNG: %w", err)
	}
	flat := image.NewRGBA(img.Bounds())
	draw.Draw(flat, flat.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(flat, flat.Bounds(), img, img.Bounds().Min, draw.Over)
	if quality == 0 {
		quality = DefaultJPEGQuality
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, flat, &jpeg.Options{Quality: min(max(quality, 1), 100)}); err != nil {
		return nil, fmt.Errorf("storage: encode JPEG: %w", err)
	}
	return out.Bytes(), nil
}
