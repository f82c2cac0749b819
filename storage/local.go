package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"syscall"
)

// LocalStore keeps objects as files under one directory, confined with
// os.Root: no key, symlink or ".." can reach outside it. Object bytes are
// stored unchanged at <dir>/<key>; content type and metadata live in a
// hidden sidecar (see the package documentation).
type LocalStore struct {
	dir  string // absolute, for URL
	root *os.Root
	// writes bounds the Puts writing at once: a hundred goroutines
	// creating files in one directory spin on its lock in the kernel
	// (measured: 70 % of a worker's CPU at concurrency 100).
	writes chan struct{}
}

// localWrites is how many Puts of one LocalStore write files at once.
const localWrites = 4

var _ Store = (*LocalStore)(nil)

// OpenLocal opens (creating it and its parents if missing, mode 0755) the
// directory dir as a store. It fails if dir cannot be created or opened.
func OpenLocal(dir string) (*LocalStore, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: local directory: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("storage: create local directory: %w", err)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("storage: open local directory: %w", err)
	}
	return &LocalStore{dir: abs, root: root, writes: make(chan struct{}, localWrites)}, nil
}

// Close releases the directory handle; later calls fail.
func (s *LocalStore) Close() error { return s.root.Close() }

// Dir returns the absolute directory of the store.
func (s *LocalStore) Dir() string { return s.dir }

// URL returns file:///abs/dir/key, percent-encoded where needed.
func (s *LocalStore) URL(key string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(s.dir) + "/" + key}
	return u.String()
}

// Stat describes the object at key; ErrNotFound if there is none.
func (s *LocalStore) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := s.check(ctx, key); err != nil {
		return ObjectInfo{}, err
	}
	f, err := s.openObject(key)
	if err != nil {
		return ObjectInfo{}, err
	}
	defer f.Close()
	return s.describe(key, f)
}

// Get returns the object's bytes and description; ErrNotFound if missing.
// Both come from one open file, so they agree even during a replacement.
func (s *LocalStore) Get(ctx context.Context, key string) ([]byte, ObjectInfo, error) {
	if err := s.check(ctx, key); err != nil {
		return nil, ObjectInfo{}, err
	}
	f, err := s.openObject(key)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	defer f.Close()
	info, err := s.describe(key, f)
	if err != nil {
		return nil, ObjectInfo{}, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, ObjectInfo{}, fmt.Errorf("storage: read %q: %w", key, err)
	}
	if int64(len(data)) != info.Size {
		return nil, ObjectInfo{}, fmt.Errorf("storage: read %q: got %d bytes, file has %d", key, len(data), info.Size)
	}
	return data, info, nil
}

// Ping checks that the root directory still exists and accepts a file.
func (s *LocalStore) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name, err := writeTemp(s.root, ".", nil)
	if err != nil {
		return fmt.Errorf("storage: local directory not writable: %w", err)
	}
	return s.root.Remove(name)
}

func (s *LocalStore) check(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return CheckKey(key)
}

// openObject opens key for reading. A missing file, a missing or
// non-directory parent, or a directory at key all mean ErrNotFound: no
// object of that name exists.
func (s *LocalStore) openObject(key string) (*os.File, error) {
	f, err := s.root.Open(key)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, s.URL(key))
	}
	if err != nil {
		return nil, fmt.Errorf("storage: open %q: %w", key, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w: %s (not a regular file)", ErrNotFound, s.URL(key))
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("storage: stat %q: %w", key, err)
	}
	return f, nil
}

func (s *LocalStore) describe(key string, f *os.File) (ObjectInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("storage: stat %q: %w", key, err)
	}
	sc, err := s.readSidecar(key, f)
	if err != nil {
		return ObjectInfo{}, err
	}
	return ObjectInfo{Key: key, Size: fi.Size(), ContentType: sc.ContentType, Metadata: sc.Metadata, ModTime: fi.ModTime()}, nil
}

// sidecarName is ".<base>.meta.json" beside the object. Keys may not have
// dot-leading segments (CheckKey), so it never names an object.
func sidecarName(key string) string {
	dir, base := path.Split(key)
	return dir + "." + base + ".meta.json"
}
