package scenes

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
)

const base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func isBase62(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// ValidateScene checks that scene could have been issued by some store:
// 1 to 32 characters of [0-9A-Za-z]. It does not check this store's Prefix
// or Length, because imported scenes keep their own shape. The alphabet is
// a subset of what wechat.ValidateScene accepts.
func ValidateScene(scene string) error {
	if scene == "" {
		return &SceneError{scene, "empty"}
	}
	if len(scene) > MaxSceneLen {
		return &SceneError{scene, fmt.Sprintf("%d bytes, at most %d allowed", len(scene), MaxSceneLen)}
	}
	for i := 0; i < len(scene); i++ {
		if !isBase62(scene[i]) {
			return &SceneError{scene, fmt.Sprintf("character %q at %d is not in [0-9A-Za-z]", scene[i], i)}
		}
	}
	return nil
}

// digest is the SHA-256 of a row's canonical params.
type digest = [sha256.Size]byte

// candidate returns the k-th deterministic scene for a row: k = 0 encodes d
// itself, later ones encode SHA-256(d || k) so that a collision moves to a
// fresh, equally uniform scene without hashing the (possibly long) params
// again.
func candidate(prefix string, length int, d digest, k int) string {
	if k > 0 {
		var buf [sha256.Size + 4]byte
		copy(buf[:], d[:])
		binary.BigEndian.PutUint32(buf[sha256.Size:], uint32(k))
		d = sha256.Sum256(buf[:])
	}
	out := make([]byte, len(prefix)+length)
	copy(out, prefix)
	base62(out[len(prefix):], d)
	return string(out)
}

// base62 fills out with the len(out) least significant base-62 digits of d
// read as a big-endian number. 62^32 < 2^256, so every digit is (nearly)
// uniform.
func base62(out []byte, d digest) {
	var limbs [4]uint64
	for i := range limbs {
		limbs[i] = binary.BigEndian.Uint64(d[8*i:])
	}
	for i := len(out) - 1; i >= 0; i-- {
		var rem uint64
		for j := range limbs {
			limbs[j], rem = bits.Div64(rem, limbs[j], 62)
		}
		out[i] = base62Digits[rem]
	}
}
