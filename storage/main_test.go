package storage_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain hides the machine's AWS and WXACODE settings, so the tests see
// only what they configure themselves.
func TestMain(m *testing.M) {
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "WXACODE_") {
			os.Unsetenv(name)
		}
	}
	missing := filepath.Join(os.TempDir(), "wxacode-storage-test-no-such-dir", "none")
	os.Setenv("AWS_CONFIG_FILE", missing)
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", missing)
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Exit(m.Run())
}
