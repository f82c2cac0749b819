package worker

import (
	"os"
	"testing"

	"github.com/wxacode/wxacode/storage/storagetest"
)

// TestMain hides the machine's AWS and WXACODE settings, so that the S3
// tests see only what they configure themselves.
func TestMain(m *testing.M) {
	storagetest.IsolateAWSEnv()
	os.Exit(m.Run())
}
