package storage

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"syscall"
)

// Put writes data to a temporary file in the key's directory (created as
// needed), fsyncs it and renames it over the key, then writes the sidecar
// the same way and fsyncs the directory. A crash leaves either the old or
// the new object (plus, at worst, a stray ".tmp-*" file), never a partial
// one. With IfAbsent the temporary file is hard-linked to the key instead,
// which fails atomically if another writer got there first (ErrExists).
func (s *LocalStore) Put(ctx context.Context, key string, data []byte, opts PutOptions) error {
	if err := s.check(ctx, key); err != nil {
		return err
	}
	if err := checkMetadata(key, opts.Metadata); err != nil {
		return err
	}
	if opts.IfAbsent {
		if err := ensureAbsent(ctx, s, key); err != nil {
			return err
		}
	}
	select {
	case s.writes <- struct{}{}:
		defer func() { <-s.writes }()
	case <-ctx.Done():
		return ctx.Err()
	}
	dir := path.Dir(key)
	if err := s.root.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("storage: create directory for %q: %w", key, err)
	}
	tmp, err := writeTemp(s.root, dir, data)
	if err != nil {
		return fmt.Errorf("storage: write %q: %w", key, err)
	}
	if err := s.publish(tmp, key, opts.IfAbsent); err != nil {
		_ = s.root.Remove(tmp)
		return err
	}
	sc := sidecar{ContentType: cmp.Or(opts.ContentType, http.DetectContentType(data)), Metadata: opts.Metadata}
	if err := s.writeSidecar(key, sc); err != nil {
		return err
	}
	return syncDir(s.root, dir)
}

// publish moves the finished temporary file to key.
func (s *LocalStore) publish(tmp, key string, ifAbsent bool) error {
	if ifAbsent {
		err := s.root.Link(tmp, key)
		switch {
		case err == nil:
			_ = s.root.Remove(tmp) // the object is published; a stray temp name is harmless
			return nil
		case errors.Is(err, fs.ErrExist):
			return fmt.Errorf("%w: %s", ErrExists, s.URL(key))
		case !linkUnsupported(err):
			return fmt.Errorf("storage: write %q: %w", key, err)
		}
		// No hard links on this file system: the Stat in Put is the guard.
	}
	if err := s.root.Rename(tmp, key); err != nil {
		return fmt.Errorf("storage: write %q: %w", key, err)
	}
	return nil
}

func linkUnsupported(err error) bool {
	return errors.Is(err, errors.ErrUnsupported) || errors.Is(err, syscall.EPERM)
}

// writeTemp writes data to a new ".tmp-<random>" file in dir and fsyncs
// it. Dot-leading names can never be keys (CheckKey), so a temporary file
// never collides with an object; O_EXCL keeps concurrent writers apart.
func writeTemp(root *os.Root, dir string, data []byte) (string, error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	name := path.Join(dir, ".tmp-"+hex.EncodeToString(rnd[:]))
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = root.Remove(name)
		return "", err
	}
	return name, nil
}

// syncDir makes the renames in dir durable.
func syncDir(root *os.Root, dir string) error {
	d, err := root.Open(dir)
	if err != nil {
		return fmt.Errorf("storage: sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("storage: sync directory: %w", err)
	}
	return nil
}
