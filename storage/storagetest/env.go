package storagetest

import (
	"os"
	"path/filepath"
	"strings"
)

// IsolateAWSEnv removes every AWS_* and WXACODE_* variable from the process
// environment and points the shared AWS config and credentials files at a
// path that does not exist, so that tests see only what they configure
// (a developer's AWS_PROFILE or AWS_CA_BUNDLE cannot change the outcome).
// Call it from TestMain before m.Run: it is not safe alongside running
// tests.
func IsolateAWSEnv() {
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "WXACODE_") {
			os.Unsetenv(name)
		}
	}
	missing := filepath.Join(os.TempDir(), "wxacode-storagetest-no-such-dir", "none")
	os.Setenv("AWS_CONFIG_FILE", missing)
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", missing)
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}
