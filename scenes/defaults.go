package scenes

// DefaultHandlerConfig is HandlerConfig{} with every default filled in,
// for the flags of a resolver.
func DefaultHandlerConfig() HandlerConfig { return HandlerConfig{}.withDefaults() }
