package worker

// DefaultConfig is Config{} with every default filled in, for the flags
// that set a worker's configuration.
func DefaultConfig() Config { return Config{}.withDefaults() }
