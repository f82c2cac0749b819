package campaign

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/wxacode/wxacode/storage"
)

// openInput opens a file or object source; name is what its format is
// detected from.
func (d Definition) openInput(ctx context.Context, store storage.Store) (io.ReadCloser, string, error) {
	if d.Source.File != "" {
		f, err := os.Open(d.Source.File)
		if err != nil {
			return nil, "", &SourceError{Campaign: d.Name, Reason: "open file: " + err.Error(), Err: err}
		}
		return f, d.Source.File, nil
	}
	obj, _ := parseObject(d.Source.Object) // validated by Open
	if key, ok := keyInStore(obj, store); ok {
		data, _, err := store.Get(ctx, key)
		if err != nil {
			return nil, "", &SourceError{Campaign: d.Name, Reason: "get object: " + err.Error(), Err: err}
		}
		return io.NopCloser(bytes.NewReader(data)), key, nil
	}
	if obj.scheme == "s3" {
		reason := "an s3:// object needs a store (WXACODE_STORAGE_URL) on its bucket"
		if store != nil {
			reason = fmt.Sprintf("the object is outside the store %s (point WXACODE_STORAGE_URL at its bucket)", store.URL(""))
		}
		return nil, "", &SourceError{Campaign: d.Name, Reason: reason}
	}
	f, err := os.Open(obj.path)
	if err != nil {
		return nil, "", &SourceError{Campaign: d.Name, Reason: "open object: " + err.Error(), Err: err}
	}
	return f, obj.path, nil
}

// keyInStore finds the key of obj in store: the object's URL must start
// with the store's own URL (bucket and prefix, or directory).
func keyInStore(obj objectURL, store storage.Store) (string, bool) {
	if store == nil {
		return "", false
	}
	base, problem := storeBase(store)
	if problem || base.scheme != obj.scheme || base.bucket != obj.bucket {
		return "", false
	}
	if obj.scheme == "file" {
		rel, err := filepath.Rel(base.path, obj.path)
		if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
			return "", false
		}
		return filepath.ToSlash(rel), true
	}
	key, ok := strings.CutPrefix(obj.path, base.path)
	return key, ok && key != ""
}

// storeBase parses store.URL(""): "s3://bucket/prefix/" or "file:///dir/".
func storeBase(store storage.Store) (objectURL, bool) {
	u, err := url.Parse(store.URL(""))
	if err != nil {
		return objectURL{}, true
	}
	switch u.Scheme {
	case "s3":
		return objectURL{scheme: "s3", bucket: u.Host, path: strings.TrimPrefix(u.Path, "/")}, false
	case "file":
		return objectURL{scheme: "file", path: filepath.Clean(filepath.FromSlash(u.Path))}, false
	}
	return objectURL{}, true
}
