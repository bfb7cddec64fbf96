// Command ksguard guards the kubesphere-config ConfigMap of a KubeSphere
// member cluster. Subcommands:
//
//	ksguard serve   serve the mutating and validating webhooks
//	ksguard eval    judge a ConfigMap (or an AdmissionReview) offline
//	ksguard certs   write a CA and a serving certificate to a directory
//	ksguard version print the version
package main

import (
	"fmt"
	"io"
	"os"
)

// version is stamped at build time (-ldflags -X main.version=...).
var version = "dev"

// Exit statuses, shared by every subcommand.
const (
	exitAllowed = 0 // the write is allowed (or the command succeeded)
	exitDenied  = 1 // the write is denied
	exitError   = 2 // the command itself could not run
)

const usage = `ksguard guards kubesphere-config on KubeSphere member clusters.

Usage:
  ksguard serve --host-secret NAMESPACE/NAME [flags]                 serve the webhooks (TLS)
  ksguard eval -f CONFIGMAP.yaml --host-secret-file FILE [flags]   judge a ConfigMap offline
  ksguard eval --review REVIEW.json --host-secret-file FILE        answer an AdmissionReview
  ksguard certs --dir DIR --host NAME [--host NAME ...]            write a CA and a serving certificate
  ksguard version                                                  print the version

Run 'ksguard serve -h', 'ksguard eval -h' or 'ksguard certs -h' for the flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the subcommand in args and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError
	}
	switch args[0] {
	case "serve":
		return runServe(args[1:], stderr)
	case "eval":
		return runEval(args[1:], stdin, stdout, stderr)
	case "certs":
		return runCerts(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, version)
		return exitAllowed
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitAllowed
	}
	fmt.Fprintf(stderr, "ksguard: unknown command %q\n\n%s", args[0], usage)
	return exitError
}
