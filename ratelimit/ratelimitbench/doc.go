// Package ratelimitbench measures the fleet-wide limiter the way it runs in
// production: several separate OS processes, each with many goroutines
// blocked in Limiter.Wait, against one private redis-server.
//
// Run re-executes the current program (os.Executable) as each child process,
// with the environment variable ChildEnv set. The program must therefore
// hand control to the child before doing anything else:
//
//	func main() {
//		if ratelimitbench.IsChild() {
//			os.Exit(ratelimitbench.ChildMain())
//		}
//		// ... normal command-line handling
//	}
//
// The go test entry point (BenchmarkFleet) does the same in TestMain.
package ratelimitbench
