package storagetest

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	IsolateAWSEnv()
	os.Exit(m.Run())
}
