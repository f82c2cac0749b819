package scenes

import (
	"cmp"
	"fmt"
)

// MaxSceneLen is WeChat's limit on the scene of interface B.
const MaxSceneLen = 32

// Defaults of Config.
const (
	DefaultLength         = 10
	DefaultKeyPrefix      = "wxacode:scenes:"
	DefaultMaxParamsBytes = 1 << 20
	DefaultBatchSize      = 1000
)

// Config tunes a Store. The zero value is ready to use.
type Config struct {
	// Prefix starts every scene this store issues, e.g. "p" for posters.
	// Zero value: "" (no prefix). Only [0-9A-Za-z]: WeChat accepts more,
	// but '&' and '=' are reported to break on some clients and '%' is
	// refused, so the safe alphabet is the only one used.
	Prefix string
	// Length is the number of base62 characters after Prefix. Zero or
	// negative: 10 (62^10 ≈ 8·10^17 scenes, so collisions between different
	// params are practically absent below billions of rows).
	// len(Prefix)+Length must not exceed 32; New refuses it otherwise.
	Length int
	// KeyPrefix starts every Redis key of the store. Zero value:
	// "wxacode:scenes:". Stores with different KeyPrefix are independent
	// namespaces; within one KeyPrefix, params map to one scene, whatever
	// Prefix and Length were when it was issued. See the package
	// documentation for the key layout and Redis Cluster.
	KeyPrefix string
	// MaxParamsBytes caps one row of params as given (before
	// canonicalisation); larger rows get a *ParamsError. Zero or negative:
	// 1 MiB.
	MaxParamsBytes int
	// BatchSize is the number of rows per pipeline in IssueMany and Import,
	// and the SCAN COUNT of Export. Zero or negative: 1000.
	BatchSize int
}

func (c Config) withDefaults() (Config, error) {
	if c.Length <= 0 {
		c.Length = DefaultLength
	}
	c.KeyPrefix = cmp.Or(c.KeyPrefix, DefaultKeyPrefix)
	if c.MaxParamsBytes <= 0 {
		c.MaxParamsBytes = DefaultMaxParamsBytes
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	for i := 0; i < len(c.Prefix); i++ {
		if !isBase62(c.Prefix[i]) {
			return c, &ConfigError{"Prefix", fmt.Sprintf("character %q at %d is not in [0-9A-Za-z]", c.Prefix[i], i)}
		}
	}
	if n := len(c.Prefix) + c.Length; n > MaxSceneLen {
		return c, &ConfigError{"Length", fmt.Sprintf("len(Prefix) %d + Length %d = %d, above WeChat's %d",
			len(c.Prefix), c.Length, n, MaxSceneLen)}
	}
	return c, nil
}
