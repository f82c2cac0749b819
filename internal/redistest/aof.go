package redistest

// AOF returns the extra arguments for Start or StartProcess that make the
// server keep an append-only file in its directory, fsynced once a second
// (appendfsync everysec, the usual production setting). They override the
// default --appendonly no, so that Restart reloads the data as a real Redis
// does after a crash. Restart kills the process, not the machine: Redis
// writes the file before it replies (unless a slow fsync makes it postpone
// the write, by up to 2 s), so normally nothing it answered is lost.
func AOF() []string { return []string{"--appendonly", "yes", "--appendfsync", "everysec"} }
