package storagetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// hideVersityGW drops from PATH every directory holding a versitygw, so
// that only GOBIN can satisfy the lookup. (Keeping the rest of PATH keeps
// the C compiler visible: without it go would rebuild everything with cgo
// off, which takes minutes instead of seconds.)
func hideVersityGW(t *testing.T) {
	// The default install directory goes too, even while empty: another
	// package's tests may install versitygw there while this one runs.
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		t.Fatal(err)
	}
	defaultBin := filepath.Join(strings.TrimSpace(string(out)), "bin")
	var keep []string
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if filepath.Clean(dir) != defaultBin && !isExecutable(filepath.Join(dir, "versitygw")) {
			keep = append(keep, dir)
		}
	}
	t.Setenv("PATH", strings.Join(keep, string(filepath.ListSeparator)))
	if p, err := exec.LookPath("versitygw"); err == nil {
		t.Fatalf("versitygw still found at %s", p)
	}
}

func TestInstallsIntoGOBINWhenMissing(t *testing.T) {
	hideVersityGW(t)
	gobin := t.TempDir()
	t.Setenv("GOBIN", gobin)
	bin, err := findOrInstall()
	if err != nil {
		t.Fatalf("findOrInstall: %v", err)
	}
	if want := filepath.Join(gobin, "versitygw"); bin != want {
		t.Fatalf("installed at %s, want %s", bin, want)
	}
	out, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Versity S3 Gateway") {
		t.Fatalf("installed binary does not run: %v\n%s", err, out)
	}
	// Found without installing the second time.
	again, err := findOrInstall()
	if err != nil || again != bin {
		t.Fatalf("second lookup: %q, %v", again, err)
	}
}

func TestInstallFailureIsExplained(t *testing.T) {
	hideVersityGW(t)
	t.Setenv("GOBIN", t.TempDir())
	t.Setenv("GOMODCACHE", t.TempDir()) // empty cache...
	t.Setenv("GOPROXY", "off")          // ...and no way to fill it
	t.Cleanup(func() { makeWritable(t, os.Getenv("GOMODCACHE")) })
	_, err := findOrInstall()
	if err == nil {
		t.Fatal("install without a module source succeeded")
	}
	for _, want := range []string{"go install " + VersityGWModule, "failed", "install it by hand"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

// makeWritable lets t.TempDir remove a module cache, whose files go makes
// read-only.
func makeWritable(t *testing.T, dir string) {
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
}
