package campaign

import (
	"net/url"
	"path/filepath"
	"strings"

	"github.com/wxacode/wxacode/jobs"
)

func (v *validator) source() {
	s := v.d.Source
	kinds := 0
	for _, set := range []bool{s.File != "", s.Object != "", s.Generator != nil} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds == 0:
		v.fail("source", "", "required: one of file, object or generator")
		return
	case kinds > 1:
		v.fail("source", "", "set exactly one of file, object or generator")
		return
	}
	if s.Format != "" {
		if _, err := jobs.ParseFormat(s.Format); err != nil {
			v.fail("source.format", s.Format, "want lines, csv or jsonl (or omit it to go by the extension)")
		} else if s.Generator != nil {
			v.fail("source.format", s.Format, "a generator has no format")
		}
	}
	switch {
	case s.Generator != nil:
		if field, value, reason := generatorProblem(s.Generator); reason != "" {
			v.fail(field, value, reason)
		}
	case s.Object != "":
		if reason := objectProblem(s.Object); reason != "" {
			v.fail("source.object", "", reason) // may carry credentials: never echoed
		}
	case strings.ContainsRune(s.File, 0):
		v.fail("source.file", "", "contains a NUL byte")
	}
}

// objectURL is a parsed source.object.
type objectURL struct {
	scheme string // "s3" or "file"
	bucket string // s3 only
	path   string // s3: the key; file: the absolute local path
}

// parseObject reads "s3://bucket/key" or "file:///abs/path".
func parseObject(raw string) (objectURL, string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return objectURL{}, "not a URL (want s3://bucket/key or file:///abs/path)"
	case u.User != nil:
		return objectURL{}, "credentials in the URL are not accepted"
	case u.RawQuery != "" || u.Fragment != "":
		return objectURL{}, "query strings and fragments are not supported"
	}
	switch u.Scheme {
	case "s3":
		key := strings.TrimPrefix(u.Path, "/")
		if u.Host == "" || key == "" || strings.HasSuffix(key, "/") {
			return objectURL{}, "want s3://bucket/key naming one object"
		}
		return objectURL{scheme: "s3", bucket: u.Host, path: key}, ""
	case "file":
		p := filepath.FromSlash(u.Path)
		if u.Host != "" && u.Host != "localhost" || !filepath.IsAbs(p) || strings.HasSuffix(u.Path, "/") {
			return objectURL{}, "want file:///abs/path naming one file"
		}
		return objectURL{scheme: "file", path: filepath.Clean(p)}, ""
	}
	return objectURL{}, "scheme not supported (want s3://bucket/key or file:///abs/path)"
}

func objectProblem(raw string) string {
	_, problem := parseObject(raw)
	return problem
}
