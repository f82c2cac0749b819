package storage

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wxacode/wxacode/code"
)

// Metadata keys written by Metadata.
const (
	MetaAppID       = "appid"
	MetaPage        = "page"
	MetaScene       = "scene"
	MetaEnvVersion  = "env-version"  // normalised: "" is written as "release"
	MetaWidth       = "width"        // normalised: 0 is written as "430"
	MetaFormat      = "format"       // "jpeg" or "png"
	MetaSHA256      = "sha256"       // lower-case hex of the stored bytes
	MetaGeneratedAt = "generated-at" // RFC 3339 with nanoseconds, UTC
	MetaParams      = "params"       // code.Rendering.Canonical: every rendering parameter
	MetaParamsHash  = "params-hash"  // code.Rendering.Hash, "default" for the default rendering
	// MetaEncoded lists (comma-separated, or "none") the text entries whose
	// value is EncodeSegment'ed because it could not be stored verbatim.
	// Objects stored before it existed have every text entry encoded.
	MetaEncoded = "encoded"
)

// textEntries are the metadata entries holding free text: stored
// verbatim when metadataSafe, else encoded and listed under MetaEncoded.
var textEntries = []string{MetaAppID, MetaPage, MetaScene, MetaEnvVersion, MetaFormat, MetaSHA256}

// metadataSafe reports whether v can be stored as it is: non-empty
// printable ASCII without spaces, which every S3 server, HTTP proxy and
// signature keeps byte for byte (an empty value may be dropped, spaces
// trimmed or folded). Every valid scene and appid is; a page is unless it
// holds non-ASCII characters.
func metadataSafe(v string) bool {
	return v != "" && !strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r > '~' })
}

// Metadata returns the standard metadata set for a code of p, stored with
// the given SHA-256 (hex) and generation time. appid, page, scene and the
// other text entries are verbatim when metadataSafe and EncodeSegment'ed
// otherwise (listed under MetaEncoded); read them back with MetaText. It
// always passes the Store metadata checks.
func Metadata(p KeyParams, sha256hex string, generated time.Time) map[string]string {
	n := p.Rendering.Normalized()
	md := map[string]string{
		MetaWidth:       strconv.Itoa(n.Width),
		MetaGeneratedAt: generated.UTC().Format(time.RFC3339Nano),
		MetaParams:      p.Rendering.Canonical(),
		MetaParamsHash:  cmp.Or(p.Rendering.Hash(), "default"),
	}
	text := map[string]string{MetaAppID: p.AppID, MetaPage: p.Page, MetaScene: p.Scene, MetaEnvVersion: n.EnvVersion,
		MetaFormat: string(cmp.Or(p.Format, code.JPEG)), MetaSHA256: sha256hex}
	var encoded []string
	for _, k := range textEntries {
		v := text[k]
		if !metadataSafe(v) {
			v = EncodeSegment(v)
			encoded = append(encoded, k)
		}
		md[k] = v
	}
	md[MetaEncoded] = cmp.Or(strings.Join(encoded, ","), "none")
	return md
}

// MetaText returns the text entry key of md as it was given to Metadata:
// verbatim, or decoded when MetaEncoded lists it or is absent (objects
// stored before verbatim metadata). It fails for a missing entry or an
// encoding DecodeSegment refuses.
func MetaText(md map[string]string, key string) (string, error) {
	v, ok := md[key]
	if !ok {
		return "", fmt.Errorf("storage: metadata has no %q", key)
	}
	enc, marked := md[MetaEncoded]
	if marked && !slices.Contains(strings.Split(enc, ","), key) {
		return v, nil
	}
	s, err := DecodeSegment(v)
	if err != nil {
		return "", fmt.Errorf("storage: metadata %q: %w", key, err)
	}
	return s, nil
}

// StoredCode is the code an object's metadata says it holds.
type StoredCode struct {
	AppID, Page, Scene string
	Params             string // code.Rendering.Canonical of its rendering
}

// StoredCodeOf reads the code described by an object's metadata (either
// form, see MetaText). ok is false when the object has no metadata at all
// (a local sidecar lost in a crash); an incomplete or undecodable set is
// an error.
func StoredCodeOf(md map[string]string) (c StoredCode, ok bool, err error) {
	if len(md) == 0 {
		return c, false, nil
	}
	for key, dst := range map[string]*string{MetaAppID: &c.AppID, MetaPage: &c.Page, MetaScene: &c.Scene} {
		if *dst, err = MetaText(md, key); err != nil {
			return c, true, err
		}
	}
	var has bool
	if c.Params, has = md[MetaParams]; !has {
		return c, true, fmt.Errorf("storage: metadata has no %q", MetaParams)
	}
	return c, true, nil
}

// Differs returns "" when c is the code of p (same appid, page, scene and
// rendering), else what differs, for a "key holds another code" failure.
func (c StoredCode) Differs(p KeyParams) string {
	var diff []string
	for _, d := range []struct{ name, stored, want string }{
		{"app", c.AppID, p.AppID}, {"page", c.Page, p.Page}, {"scene", c.Scene, p.Scene},
		{"params", c.Params, p.Rendering.Canonical()},
	} {
		if d.stored != d.want {
			diff = append(diff, fmt.Sprintf("%s %q (not %q)", d.name, d.stored, d.want))
		}
	}
	return strings.Join(diff, ", ")
}
