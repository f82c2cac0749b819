package storage

import (
	"cmp"
	"strconv"
	"time"
)

// Metadata keys written by Metadata. Values are printable ASCII: free text
// (appid, page, scene, env-version, format) goes through EncodeSegment and
// comes back with DecodeSegment.
const (
	MetaAppID       = "appid"
	MetaPage        = "page"
	MetaScene       = "scene"
	MetaEnvVersion  = "env-version"  // normalised: "" is written as "release"
	MetaWidth       = "width"        // normalised: 0 is written as "430"
	MetaFormat      = "format"       // "jpeg" or "png", as the caller passes it
	MetaSHA256      = "sha256"       // lower-case hex of the stored bytes
	MetaGeneratedAt = "generated-at" // RFC 3339 with nanoseconds, UTC
	MetaParams      = "params"       // CanonicalParams: every rendering parameter
	MetaParamsHash  = "params-hash"  // ParamsHash, "default" for the default rendering
)

// Metadata returns the standard metadata set for a code rendered with p,
// stored as format ("jpeg" or "png") with the given SHA-256 (hex) and
// generation time. It always passes the Store metadata checks.
func Metadata(p KeyParams, format string, sha256hex string, generated time.Time) map[string]string {
	n := p.normalized()
	return map[string]string{
		MetaAppID:       EncodeSegment(p.AppID),
		MetaPage:        EncodeSegment(p.Page),
		MetaScene:       EncodeSegment(p.Scene),
		MetaEnvVersion:  EncodeSegment(n.EnvVersion),
		MetaWidth:       strconv.Itoa(n.Width),
		MetaFormat:      EncodeSegment(format),
		MetaSHA256:      EncodeSegment(sha256hex),
		MetaGeneratedAt: generated.UTC().Format(time.RFC3339Nano),
		MetaParams:      CanonicalParams(p),
		MetaParamsHash:  cmp.Or(ParamsHash(p), "default"),
	}
}
