package scenes

import (
	"encoding/hex"
	"strings"
)

// hashTag is the Redis Cluster hash tag shared by every key of a store, so
// that each script call, whose keys are the params key and several candidate
// scene keys, runs on one slot.
const hashTag = "{scenes}"

// keys builds the Redis key names of one store.
type keys struct {
	base string // KeyPrefix + "{scenes}:"
}

func newKeys(keyPrefix string) keys { return keys{base: keyPrefix + hashTag + ":"} }

// scene is the string key holding the canonical params of scene.
func (k keys) scene(scene string) string { return k.base + "s:" + scene }

// params is the string key holding the scene of the params with digest d.
func (k keys) params(d digest) string { return k.base + "p:" + hex.EncodeToString(d[:]) }

// scenePattern is the SCAN MATCH pattern of every scene key.
func (k keys) scenePattern() string { return escapeGlob(k.base+"s:") + "*" }

// sceneOf returns the scene of a scene key.
func (k keys) sceneOf(key string) (string, bool) { return strings.CutPrefix(key, k.base+"s:") }

// escapeGlob quotes the glob characters of SCAN MATCH, which KeyPrefix may
// contain.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
