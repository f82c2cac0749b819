package chaos

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Leak is one line of a log file that holds a secret. It never carries the
// line itself, so that reporting a leak does not repeat it.
type Leak struct {
	File string // path of the log file
	Line int    // 1-based
	What string // the needle's label, e.g. "app secret"
}

func (l Leak) String() string { return fmt.Sprintf("%s:%d: %s", l.File, l.Line, l.What) }

// ScanSummary says how much was scanned.
type ScanSummary struct {
	Files int
	Bytes int64
}

// FindLeaks reads every file under dir whose name ends in ".log", line by
// line, and reports each line that contains one of needles (label ->
// text; empty texts are ignored). It fails if a file cannot be read, so a
// scan never passes by reading nothing.
func FindLeaks(dir string, needles map[string]string) ([]Leak, ScanSummary, error) {
	var leaks []Leak
	var sum ScanSummary
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".log") {
			return err
		}
		found, n, err := scanFile(path, needles)
		sum.Files++
		sum.Bytes += n
		leaks = append(leaks, found...)
		return err
	})
	return leaks, sum, err
}

func scanFile(path string, needles map[string]string) ([]Leak, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	var leaks []Leak
	var n int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 64<<20)
	for line := 1; sc.Scan(); line++ {
		n += int64(len(sc.Bytes())) + 1
		for what, needle := range needles {
			if needle != "" && bytes.Contains(sc.Bytes(), []byte(needle)) {
				leaks = append(leaks, Leak{File: path, Line: line, What: what})
			}
		}
	}
	return leaks, n, sc.Err()
}
