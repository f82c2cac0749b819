package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
)

// sidecar is the JSON kept beside each local object.
type sidecar struct {
	ContentType string            `json:"content_type"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

// readSidecar loads the object's sidecar. A missing sidecar (the process
// died between the object's rename and the sidecar's) yields a content type
// sniffed from the object and no metadata; a corrupt one is an error.
func (s *LocalStore) readSidecar(key string, obj *os.File) (sidecar, error) {
	raw, err := s.root.ReadFile(sidecarName(key))
	if errors.Is(err, fs.ErrNotExist) {
		head := make([]byte, 512)
		n, err := obj.ReadAt(head, 0)
		if err != nil && !errors.Is(err, io.EOF) {
			return sidecar{}, fmt.Errorf("storage: read %q: %w", key, err)
		}
		return sidecar{ContentType: http.DetectContentType(head[:n])}, nil
	}
	if err != nil {
		return sidecar{}, fmt.Errorf("storage: read metadata of %q: %w", key, err)
	}
	var sc sidecar
	if err := json.Unmarshal(raw, &sc); err != nil {
		return sidecar{}, fmt.Errorf("storage: metadata of %q is corrupt: %w", key, err)
	}
	return sc, nil
}

// writeSidecar replaces the sidecar atomically (temp file + rename).
func (s *LocalStore) writeSidecar(key string, sc sidecar) error {
	raw, err := json.Marshal(sc)
	if err != nil {
		return fmt.Errorf("storage: encode metadata of %q: %w", key, err)
	}
	tmp, err := writeTemp(s.root, path.Dir(key), raw)
	if err != nil {
		return fmt.Errorf("storage: write metadata of %q: %w", key, err)
	}
	if err := s.root.Rename(tmp, sidecarName(key)); err != nil {
		_ = s.root.Remove(tmp)
		return fmt.Errorf("storage: write metadata of %q: %w", key, err)
	}
	return nil
}
