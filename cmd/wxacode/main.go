// Command wxacode pre-generates WeChat mini-program codes at scale: enqueue
// scene jobs, run workers under a fleet-wide rate limit, store the images,
// and see what happened. Run `wxacode --help` for the commands; they live
// in internal/cli.
package main

import (
	"os"

	"github.com/wxacode/wxacode/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
