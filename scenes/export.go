package scenes

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// Export writes every mapping of the store to w as JSON Lines, one
// {"scene":"...","params":{...}} per line with the canonical params, and
// returns how many lines it wrote. It walks the keys with SCAN
// (COUNT Config.BatchSize) and MGET, so it never blocks Redis and its
// memory stays bounded.
//
// Like SCAN, it sees every mapping that exists for the whole export; one
// issued during the export may or may not appear, and one may appear twice
// if Redis resizes its table meanwhile (Import counts the repeat as
// unchanged). On an error the lines written so far are valid, but the export
// is incomplete. On a Cluster it reads the master of the store's slot.
func (s *Store) Export(ctx context.Context, w io.Writer) (n int, err error) {
	c, err := s.nodeClient(ctx)
	if err != nil {
		return 0, fmt.Errorf("scenes: export: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var cursor uint64
	for {
		var batch []string
		batch, cursor, err = c.Scan(ctx, cursor, s.keys.scenePattern(), int64(s.cfg.BatchSize)).Result()
		if err != nil {
			return n, fmt.Errorf("scenes: export: scan: %w", err)
		}
		written, err := s.exportKeys(ctx, bw, batch)
		n += written
		if err != nil {
			return n, err
		}
		if cursor == 0 {
			break
		}
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("scenes: export: write: %w", err)
	}
	return n, nil
}

// exportKeys writes the lines of one SCAN batch (all keys share a slot, so
// one MGET reads them).
func (s *Store) exportKeys(ctx context.Context, w *bufio.Writer, keys []string) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return 0, fmt.Errorf("scenes: export: mget: %w", err)
	}
	n := 0
	for i, v := range vals {
		params, ok := v.(string)
		if !ok {
			continue // removed since SCAN saw it
		}
		scene, _ := s.keys.sceneOf(keys[i])
		if err := ValidateScene(scene); err != nil || !json.Valid([]byte(params)) {
			return n, fmt.Errorf("scenes: export: key %q is not a mapping of this package", keys[i])
		}
		if err := writeLine(w, scene, params); err != nil {
			return n, fmt.Errorf("scenes: export: write: %w", err)
		}
		n++
	}
	return n, nil
}

// writeLine writes one export line; scene is base62 and params canonical
// JSON, so neither needs escaping.
func writeLine(w *bufio.Writer, scene, params string) error {
	w.WriteString(`{"scene":"`)
	w.WriteString(scene)
	w.WriteString(`","params":`)
	w.WriteString(params)
	_, err := w.WriteString("}\n")
	return err
}
