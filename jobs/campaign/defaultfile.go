package campaign

// DefaultFile is the campaigns file of a command given none, relative to
// the working directory.
const DefaultFile = "campaigns.yaml"
