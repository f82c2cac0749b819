package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// VersityGWModule is what FindOrInstallVersityGW installs.
const VersityGWModule = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// installTimeout bounds `go install` (about 50 s on a 2-core machine with
// an empty module cache).
const installTimeout = 5 * time.Minute

var install struct {
	once sync.Once
	path string
	err  error
}

// FindOrInstallVersityGW returns the path of a versitygw binary: from PATH,
// from $(go env GOBIN) or from $(go env GOPATH)/bin, else it runs
// `go install VersityGWModule` (once per process, under a file lock shared
// with other test processes) and returns the installed binary. The error
// explains what failed and how to install it by hand.
func FindOrInstallVersityGW() (string, error) {
	install.once.Do(func() { install.path, install.err = findOrInstall() })
	return install.path, install.err
}

func findOrInstall() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("versitygw is not on PATH and the go command is not found to install it: %w", err)
	}
	dir, err := installDir(goTool)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "versitygw")
	if isExecutable(bin) {
		return bin, nil
	}
	unlock, err := lockFile(filepath.Join(os.TempDir(), "wxacode-versitygw-install.lock"))
	if err != nil {
		return "", fmt.Errorf("lock versitygw installation: %w", err)
	}
	defer unlock()
	if isExecutable(bin) { // another process installed it while we waited
		return bin, nil
	}
	if err := goInstall(goTool, dir); err != nil {
		return "", err
	}
	if !isExecutable(bin) {
		return "", fmt.Errorf("`go install %s` succeeded but %s is missing", VersityGWModule, bin)
	}
	return bin, nil
}

// installDir is where `go install` puts binaries: GOBIN, else GOPATH/bin.
func installDir(goTool string) (string, error) {
	out, err := exec.Command(goTool, "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOBIN GOPATH: %w", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) >= 1 && lines[0] != "" {
		return lines[0], nil
	}
	if len(lines) < 2 || lines[1] == "" {
		return "", errors.New("go env reports neither GOBIN nor GOPATH")
	}
	return filepath.Join(filepath.SplitList(lines[1])[0], "bin"), nil
}

func goInstall(goTool, dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "install", VersityGWModule)
	cmd.Dir = os.TempDir() // outside any module: pkg@version ignores go.mod anyway
	// A GOFLAGS such as -mod=mod breaks pkg@version installs.
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off", "GOBIN="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("versitygw is not installed and `go install %s` failed (%v); install it by hand "+
			"and put it on PATH or in %s:\n%s", VersityGWModule, err, dir, tail(out.String(), 2000))
	}
	return nil
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
