package storage

import (
	"context"
	"fmt"
	"time"
)

// Store keeps finished codes. Implementations are safe for concurrent use.
// Keys must pass CheckKey (keys from a KeyTemplate always do); a bad key or
// metadata entry fails with a *KeyError before any I/O.
type Store interface {
	// Put stores data under key, replacing any existing object unless
	// opts.IfAbsent is set. On error the key holds either the previous
	// object or the new one, never a partial write.
	Put(ctx context.Context, key string, data []byte, opts PutOptions) error
	// Stat describes the object at key, or returns ErrNotFound.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// Get returns the object's bytes and description, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, ObjectInfo, error)
	// URL names the object for manifests: s3://bucket/prefix/key or
	// file:///abs/dir/key. It does no I/O and does not check the key.
	URL(key string) string
	// Ping checks that the store can be used (for readiness probes): the
	// local root exists and is writable; the S3 bucket exists and the
	// credentials may access it (HeadBucket; nothing is written).
	Ping(ctx context.Context) error
}

// PutOptions describe one Put.
type PutOptions struct {
	// ContentType is stored with the object; "" means sniffed from data
	// (net/http.DetectContentType).
	ContentType string
	// Metadata is stored as S3 user metadata or in the local sidecar. Keys
	// must be lower-case [a-z0-9-], values printable ASCII, 2 KiB in all
	// (see Metadata). nil means none.
	Metadata map[string]string
	// IfAbsent makes Put fail with ErrExists, writing nothing, when the key
	// exists. It is checked with a Stat first and then enforced atomically
	// where the backend can (local: hard link; S3: If-None-Match: *, which
	// some servers ignore, so the Stat is never skipped). ErrExists can
	// also mean that this very Put landed and the SDK's retry of it was
	// refused: either way the key holds a complete object.
	IfAbsent bool
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key         string // as passed to Stat or Get, without the URL prefix
	Size        int64
	ContentType string
	Metadata    map[string]string // nil when the object has none
	ModTime     time.Time
}

// ensureAbsent is the check before a conditional create: ErrExists if the
// key is there, nil if it is not, the Stat error otherwise.
func ensureAbsent(ctx context.Context, s Store, key string) error {
	_, err := s.Stat(ctx, key)
	switch {
	case err == nil:
		return fmt.Errorf("%w: %s", ErrExists, s.URL(key))
	case IsNotFound(err):
		return nil
	}
	return err
}
