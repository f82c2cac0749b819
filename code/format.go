package code

import "bytes"

// Format is the image format of a code, decided from its bytes.
type Format string

// The formats WeChat returns: JPEG by default, PNG when is_hyaline is set
// (labelled image/jpeg all the same).
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
)

// Magic bytes and end markers, the only way a format is ever decided
// (never from a Content-Type header).
var (
	jpegMagic = []byte{0xFF, 0xD8, 0xFF}
	jpegEnd   = []byte{0xFF, 0xD9}
	pngMagic  = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}
	// pngEnd is the complete IEND chunk: zero length, type, CRC.
	pngEnd = []byte{0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82}
)

// FormatOf names the format of data from its first bytes: JPEG (FF D8 FF)
// or PNG (89 50 4E 47 0D 0A 1A 0A). ok is false for anything else.
func FormatOf(data []byte) (f Format, ok bool) {
	switch {
	case bytes.HasPrefix(data, jpegMagic):
		return JPEG, true
	case bytes.HasPrefix(data, pngMagic):
		return PNG, true
	}
	return "", false
}

// Complete reports whether data, of format f, ends with f's end marker
// (JPEG FF D9, PNG's IEND chunk): a body cut off in transit does not.
func (f Format) Complete(data []byte) bool {
	switch f {
	case JPEG:
		return bytes.HasSuffix(data, jpegEnd)
	case PNG:
		return bytes.HasSuffix(data, pngEnd)
	}
	return false
}

// Ext is the file extension without a dot: "jpg" or "png".
func (f Format) Ext() string {
	if f == PNG {
		return "png"
	}
	return "jpg"
}

// ContentType is the MIME type to store the image under.
func (f Format) ContentType() string {
	if f == PNG {
		return "image/png"
	}
	return "image/jpeg"
}
