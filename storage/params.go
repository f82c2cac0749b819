package storage

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/wxacode/wxacode/code"
)

// KeyParams are what identifies one stored code: its app, its parameters
// (zero values mean WeChat's defaults, see package code) and the format it
// is stored in, chosen by the caller before the image exists. CheckPath
// is not part of a key: it does not change the code.
type KeyParams struct {
	AppID string
	code.Params
	Format code.Format // code.JPEG or code.PNG; {ext} is Format.Ext()
}

// fullHashLen is the number of hex digits of {hash} (128 bits): it alone
// must keep millions of codes apart.
const fullHashLen = 32

// FullHash returns a 32 hex digit hash of every field that identifies a
// code: appid, page, scene, the canonical rendering (code.Rendering.Canonical)
// and the extension. It is what the {hash} template placeholder expands to.
func FullHash(p KeyParams) string {
	fields := []string{p.AppID, p.Page, p.Scene, p.Rendering.Canonical(), p.Format.Ext()}
	var b strings.Builder
	b.WriteString("wxacode-key-v1\n")
	for _, f := range fields {
		// Length prefixes keep ("ab","c") and ("a","bc") apart.
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])[:fullHashLen]
}
